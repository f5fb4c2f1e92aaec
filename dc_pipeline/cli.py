"""The `dc-pipeline` command: demo run, database setup, simulator, quality, reports.

Errors print one line naming the cause and the fix (no traceback) and exit non-zero.
"""

from __future__ import annotations

import argparse
import os
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

    def load() -> None:  # with the UI, while dagster dev starts
        counts = load_demo(url, args.size, args.seed)
        loaded = "already loaded" if counts is None else ", ".join(f"{t} {n}" for t, n in counts.items())
        print("demo data: " + loaded)

    simulator = _start_demo_simulator(args.size, args.seed)
    reports = _start_report_server(Path(os.environ["REPORTS_DIR"]))
    try:
        return _demo_pipeline(args, url, runner, load)
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


def _demo_pipeline(args, url: str, runner, load) -> int:
    import json
    import time

    from dc_pipeline.work_plan import DEMO_TUNING

    started = COMMAND_STARTED[0]
    for name, value in DEMO_TUNING.items():
        os.environ.setdefault(name, value)
    home = dc_home() / "dagster_home"
    instance = runner.prepare_instance(home, url)
    timings: dict = {"mode": "in process" if args.no_ui else "through the daemon"}
    if args.no_ui:
        from dc_pipeline.definitions import build_definitions

        load()
        defs = build_definitions()
        results = runner.run_plan(
            instance,
            lambda stage: runner.run_stage_in_process(defs, instance, stage, args.workers),
            args.workers,
            project_rows=runner.project_value_rows(url),
        )
        process = None
    else:
        results, process = _plan_through_ui(args, url, home, instance, runner, timings, started, load)
    failed = any(r.summary.failed for r in results) or not results
    status = runner.record_validation(url) if not failed else "not run (a stage failed)"
    print(f"canary on this code version: {status}")
    for project_id, report_id, health, paths in runner.latest_reports(url)[: args.show_reports]:
        print(f"  report p{project_id} {report_id} [{health}]: {paths.get('html')}")
    timings.update(
        stages=[
            {"stage": r.label, "runs": r.runs, "seconds": round(r.seconds, 2), "cpu_seconds": round(r.cpu_seconds, 2)}
            for r in results
        ],
        total_seconds=round(time.perf_counter() - started, 2),
    )
    print(f"done in {timings['total_seconds']:.0f} s")
    if args.timings:
        Path(args.timings).write_text(json.dumps(timings, indent=1))
    if process is None:
        return 1 if failed else 0
    from dc_pipeline import demo_ui

    if args.exit:
        demo_ui.stop(process)
        return 1 if failed else 0
    print(f"Dagster UI on http://127.0.0.1:{args.port} (Ctrl-C to stop)")
    try:
        return process.wait()
    except KeyboardInterrupt:
        demo_ui.stop(process)
        return 0


def _plan_through_ui(args, url: str, home: Path, instance, runner, timings: dict, started: float, load):
    """Start `dagster dev`, load the demo data while it starts, wait for the UI, launch the plan through it; the
    sensors wait for the plan."""
    import time
    import uuid

    from dc_pipeline import demo_ui

    marker = home / "plan_in_progress"
    marker.write_text("dc-pipeline demo\n")
    process = demo_ui.start_dagster_dev(args.port, home, marker)
    try:
        load()
        demo_ui.wait_for_ui(args.port, process, home)
        timings["ui_seconds"] = round(time.perf_counter() - started, 2)
        ui = f"http://127.0.0.1:{args.port}"
        print(f"Dagster UI on {ui}, {timings['ui_seconds']:.0f} s after the command; the runs appear there")
        launcher = demo_ui.GraphqlLauncher(args.port, instance, uuid.uuid4().hex[:8])
        results = runner.run_plan(instance, launcher, args.workers, project_rows=runner.project_value_rows(url))
        if args.exit and results and not any(r.summary.failed for r in results):
            # What a user's Launch of one project costs through the daemon (issue 14: <= 10 s).
            t0 = time.perf_counter()
            launcher(_one_project_ingest(instance))
            seconds = timings["ingest_job_one_project_via_daemon_seconds"] = round(time.perf_counter() - t0, 2)
            print(f"ingest_job for one project through the daemon: {seconds:.1f} s")
    except BaseException:
        demo_ui.stop(process)
        raise
    finally:
        marker.unlink(missing_ok=True)
    return results, process


def _one_project_ingest(instance):
    from dc_pipeline.work_plan import Stage, single

    keys = instance.get_dynamic_partitions("projects")
    key = "p101" if "p101" in keys else keys[0]
    return Stage(f"ingest_job {key}", "ingest_job", (single(key),))


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

    demo = sub.add_parser("demo", help="embedded Postgres + demo data, the Dagster UI, then every asset through it")
    demo.add_argument("--no-ui", action="store_true", help="the same plan in process (no UI, no daemon), then exit")
    demo.add_argument("--size", default="small", choices=["small", "medium", "large"])
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--port", type=int, default=3000)
    demo.add_argument("--reports-dir", default=os.environ.get("REPORTS_DIR", "reports"))
    demo.add_argument("--workers", type=int, default=2, help="runs at a time (default 2: the cores of a small machine)")
    demo.add_argument("--exit", action="store_true", help="with the UI: exit when the plan is done (benchmarks)")
    demo.add_argument("--timings", default=None, help="write per-stage seconds as JSON to this file")
    demo.add_argument("--show-reports", type=int, default=10, help="report paths to print (default 10)")
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

    from dc_pipeline import cli_explain, cli_ops, cli_quality, cli_report

    cli_explain.register(sub)
    cli_ops.register(sub)
    cli_quality.register(sub)
    cli_report.register(sub)

    sim = sub.add_parser("simulator", help="serve the Digi-Cadence API from the demo data", add_help=False)
    sim.set_defaults(func=None)
    return parser


COMMAND_STARTED = [0.0]  # perf_counter when main() started: the UI's "within 20 s of the command"


def main(argv: list[str] | None = None) -> int:
    import time

    COMMAND_STARTED[0] = time.perf_counter()
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
