"""Record the key figures of every registered report on the TechCorp projects into
dc_pipeline/config/canary_report_figures.json, which the weekly canary compares against (SPEC §11).

    python scripts/record_canary_figures.py [--dsn URL] [--depth standard]

With --dsn the database must hold the reference snapshot and the TechCorp scores (p1, p2). Without it a private
throwaway Postgres cluster is started, the demo data loaded and reference_job + scoring_job run on p1 and p2,
which is what the canary sees in a fresh deployment. Run it after an intended change to a report and commit the
file with the change."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

TECHCORP_PROJECTS = (1, 2)
TARGET = Path(__file__).resolve().parents[1] / "dc_pipeline" / "config" / "canary_report_figures.json"


def _record(url: str, depth: str) -> dict:
    from dc_pipeline.adapters import postgres
    from dc_pipeline.defs.operations.canary import record_report_figures
    from dc_pipeline.defs.resources import SettingsResource

    with postgres.connect(url) as conn:
        return record_report_figures(conn, SettingsResource().load(), TECHCORP_PROJECTS, depth)


def _fresh(depth: str) -> dict:
    from dc_pipeline import runner
    from dc_pipeline.adapters import postgres
    from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres
    from dc_pipeline.cli import load_demo

    root = Path(tempfile.mkdtemp(prefix="dc_canary_"))
    os.chmod(root, 0o755)
    server = EmbeddedPostgres(root / "pg")
    admin = server.ensure_running()
    try:
        name = f"c_{uuid.uuid4().hex[:8]}"
        postgres.ensure_database(admin, name)
        postgres.ensure_database(admin, f"{name}_dagster")
        url = postgres.database_url(admin, name)
        load_demo(url, "small", 42)
        os.environ.update(
            DATABASE_URL=url,
            REPORTS_DIR=str(root / "reports"),
            DAGSTER_PG_URL=postgres.database_url(admin, f"{name}_dagster"),
        )
        instance = runner.prepare_instance(root / "dagster_home", url)
        from dc_pipeline.definitions import build_definitions

        defs = build_definitions()
        runner.run_reference(defs, instance)
        summary = runner.run_projects(defs, instance, [f"p{p}" for p in TECHCORP_PROJECTS], job_name="scoring_job")
        if summary.failed:
            raise SystemExit(f"scoring failed: {summary.failed}")
        figures = _record(url, depth)
        instance.dispose()
        return figures
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--depth", default="standard", choices=["basic", "standard", "detailed"])
    args = parser.parse_args()
    figures = _record(args.dsn, args.depth) if args.dsn else _fresh(args.depth)
    TARGET.write_text(json.dumps(figures, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    counts = {p: sum(len(v) for v in reports.values()) for p, reports in figures["projects"].items()}
    print(f"wrote {TARGET}: figures per project {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
