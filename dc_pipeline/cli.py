"""The `dc-pipeline` command: demo run, database setup, simulator, quality, reports.

Errors print one line naming the cause and the fix (no traceback) and exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.database_location import dc_home, resolve_source_url


def _source_url(dsn: str | None) -> str:
    if dsn:
        os.environ["DATABASE_URL"] = dsn
    return resolve_source_url()


def cmd_db_init(args) -> int:
    url = _source_url(args.dsn)
    with postgres.connect(url) as conn:
        postgres.init_source_schema(conn)
        postgres.init_pipeline_schemas(conn)
        conn.commit()
    print(f"source schema ready in {postgres.redact_url(url)}")
    return 0


def cmd_db_url(args) -> int:
    print(_source_url(args.dsn))
    return 0


def load_demo(url: str, size: str, seed: int) -> dict[str, int] | None:
    """Create the schema and load the demo data; None when the same data is already loaded."""
    from dc_pipeline.demo.dataset import dataset_sha256, demo_dataset

    data = demo_dataset(size=size, seed=seed)
    digest = dataset_sha256(data.tables)
    with postgres.connect(url) as conn:
        postgres.init_source_schema(conn)
        postgres.init_pipeline_schemas(conn)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS dc_ops.demo_load (sha256 text PRIMARY KEY, size text, seed int, "
            "planted_faults jsonb, loaded_at timestamptz DEFAULT now())"
        )
        current = conn.execute("SELECT sha256 FROM dc_ops.demo_load").fetchone()
        if current and current[0] == digest:
            conn.commit()
            return None
        counts = postgres.load_source_tables(conn, data.tables, replace=True)
        conn.execute("DELETE FROM dc_ops.demo_load")
        import json

        conn.execute(
            "INSERT INTO dc_ops.demo_load (sha256, size, seed, planted_faults) VALUES (%s, %s, %s, %s)",
            (digest, size, seed, json.dumps(data.planted_faults, default=str)),
        )
        conn.commit()
    return counts


def cmd_db_load_demo(args) -> int:
    url = _source_url(args.dsn)
    counts = load_demo(url, args.size, args.seed)
    if counts is None:
        print(f"demo data ({args.size}, seed {args.seed}) already loaded in {postgres.redact_url(url)}; nothing to do")
    else:
        print("loaded " + ", ".join(f"{t}: {n}" for t, n in counts.items()) + f" into {postgres.redact_url(url)}")
    return 0


def cmd_demo(args) -> int:
    from dc_pipeline import runner

    url = _source_url(None)
    os.environ["DATABASE_URL"] = url  # the webserver, daemon and run workers use the same database
    os.environ.setdefault("REPORTS_DIR", str(Path(args.reports_dir).resolve()))
    counts = load_demo(url, args.size, args.seed)
    print("demo data: " + ("already loaded" if counts is None else ", ".join(f"{t} {n}" for t, n in counts.items())))
    simulator = _start_demo_simulator(args.size, args.seed)
    reports = _start_report_server(Path(os.environ["REPORTS_DIR"]))
    try:
        return _demo_pipeline(args, url, runner)
    finally:
        reports.stop()
        simulator.stop()


def _start_report_server(root: Path):
    """REPORTS_DIR served read-only on 127.0.0.1, so each report partition in the UI links to its page
    (REPORTS_URL reaches the webserver, daemon and run workers through the environment)."""
    from dc_pipeline.adapters.report_server import ReportServer

    server = ReportServer(root, port=int(os.environ.get("REPORTS_PORT", "0"))).start()
    os.environ["REPORTS_URL"] = server.url
    print(f"report pages on {server.url}/p<project>/<report_id>/latest.html")
    return server


def _start_demo_simulator(size: str, seed: int):
    """The API simulator on ephemeral 127.0.0.1 ports serving the demo tables just loaded; the API
    assets (and the UI's run workers, through the environment) call it."""
    from dc_pipeline.demo.dataset import demo_dataset
    from dc_pipeline.demo.simulator import ApiSimulator
    from dc_pipeline.demo.simulator_cli import DEV_SECRET_KEY

    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = DEV_SECRET_KEY
    if not os.environ.get("API_KEY"):
        os.environ["API_KEY"] = "dc-pipeline-dev-api-key"  # dev value, like the dev SECRET_KEY
    simulator = ApiSimulator(
        demo_dataset(size=size, seed=seed).tables,
        ports=(0, 0, 0),
        secret_key=os.environ["SECRET_KEY"],
        api_key=os.environ["API_KEY"],
        seed=seed,
    ).start()
    os.environ["API_BASE_URLS"] = ",".join(simulator.base_urls)
    print("Digi-Cadence API simulator on " + ", ".join(simulator.base_urls))
    return simulator


# The demo tunes with a small budget so it finishes in minutes on a laptop; set these (shell or .env) to
# override. They reach the UI's run workers: dagster dev gets the demo's environment (ui_launch.py).
DEMO_TUNING = {"OPTUNA_N_TRIALS": "5", "OPTUNA_TIMEOUT": "60", "OPTUNA_N_JOBS": "1"}
DEMO_MODEL_RUN_CONFIG = {"ops": {"outcome_models": {"config": {"bootstrap_reps": 100}}}}


def _report_failures(label: str, summary, total: int, started: float) -> None:
    import time

    for key, reason in summary.failed.items():
        print(f"  {label} {key}: FAILED: {reason}")
    print(
        f"{label}: {len(summary.succeeded)} of {total} partitions materialized ({time.perf_counter() - started:.0f} s)"
    )


def _demo_pipeline(args, url: str, runner) -> int:
    import time

    for name, value in DEMO_TUNING.items():
        os.environ.setdefault(name, value)
    home = dc_home() / "dagster_home"
    instance = runner.prepare_instance(home, url)
    from dc_pipeline.definitions import build_definitions

    defs = build_definitions()
    started = time.perf_counter()
    runner.run_reference(defs, instance)
    keys = runner.project_keys(instance)
    print(f"{len(keys)} project partitions: {', '.join(keys)}")
    # API first, so the quality rules K3/K4 reconcile against it; the Postgres path does not need it.
    api = runner.run_api_projects(defs, instance, keys)
    _report_failures("API pull and reconciliation", api, len(keys), started)
    summary = runner.run_projects(defs, instance, keys)
    _report_failures("sources -> quality -> DC scores -> report", summary, len(keys), started)
    scored = [k for k in keys if k in summary.succeeded]
    models = runner.run_projects(defs, instance, scored, job_name="models_job", run_config=DEMO_MODEL_RUN_CONFIG)
    _report_failures("outcome models and index robustness", models, len(scored), started)
    members = {k: v for k, v in runner.project_members(url).items() if k in scored}
    pairs = runner.run_pairs_by_project(defs, instance, members)
    _report_failures("forecasts and recommendations (project x brand)", pairs, sum(map(len, members.values())), started)
    for project_id, report_id, health, paths in runner.latest_reports(url):
        print(f"  report p{project_id} {report_id} [{health}]: {paths.get('html')}")
    print(f"done in {time.perf_counter() - started:.0f} s")
    failed = summary.failed or api.failed or models.failed or pairs.failed
    if args.no_ui:
        return 1 if failed else 0
    print(f"Dagster UI on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
    from dc_pipeline.ui_launch import dagster_dev_process

    command, cwd, env = dagster_dev_process("dc_pipeline.definitions", args.port, home, os.environ)
    try:
        return subprocess.call(command, cwd=cwd, env=env)
    except KeyboardInterrupt:
        return 0


def cmd_simulator(args, rest: list[str]) -> int:
    from dc_pipeline.demo.simulator_cli import main as simulator_main

    return simulator_main(rest, _simulator_tables)


def _simulator_tables(options) -> dict:
    """The small demo dataset of `--seed`, or with `--from-db` the source tables in the database."""
    if options.from_db:
        from dc_pipeline.adapters import source_reader

        with postgres.connect(_source_url(None)) as conn:
            source_reader.check_source_schema(conn)
            tables = source_reader.read_reference(conn)
            project_ids = [int(p) for p in tables["projects"]["project_id"]]
            for table in source_reader.PROJECT_TABLES:
                tables[table] = source_reader.read_project_rows(conn, table, project_ids)
        return tables
    from dc_pipeline.demo.dataset import demo_dataset

    return demo_dataset("small", options.seed).tables


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dc-pipeline", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="embedded Postgres + demo data + every asset, then the Dagster UI")
    demo.add_argument("--no-ui", action="store_true", help="materialize everything and exit")
    demo.add_argument("--size", default="small", choices=["small", "medium", "large"])
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--port", type=int, default=3000)
    demo.add_argument("--reports-dir", default=os.environ.get("REPORTS_DIR", "reports"))
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database setup").add_subparsers(dest="db_command", required=True)
    for name, func, help_text in (
        ("init", cmd_db_init, "create the source schema (idempotent)"),
        ("load-demo", cmd_db_load_demo, "create the schema and load the demo data (COPY)"),
        ("url", cmd_db_url, "print the URL of the database in use"),
    ):
        command = db.add_parser(name, help=help_text)
        command.add_argument("--dsn", default=None, help="a Postgres URL (default: DATABASE_URL, else embedded)")
        if name == "load-demo":
            command.add_argument("--size", default="small", choices=["small", "medium", "large"])
            command.add_argument("--seed", type=int, default=42)
        command.set_defaults(func=func)

    from dc_pipeline import cli_ops, cli_quality, cli_report

    cli_ops.register(sub)
    cli_quality.register(sub)
    cli_report.register(sub)

    sim = sub.add_parser("simulator", help="serve the Digi-Cadence API from the demo data", add_help=False)
    sim.set_defaults(func=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from dc_pipeline.adapters.env_file import load_env_file

    load_env_file(Path.cwd() / ".env")  # the environment wins; an empty value in .env never applies
    if not os.environ.get("DC_DEBUG"):
        # Dagster's beta/preview notices are for developers; a user sees results and errors.
        import warnings

        warnings.filterwarnings("ignore")
    parser = build_parser()
    if argv[:1] == ["simulator"]:
        return cmd_simulator(None, argv[1:])
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, cause and fix; details with DC_DEBUG=1
        if os.environ.get("DC_DEBUG"):
            raise
        print(f"dc-pipeline: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
