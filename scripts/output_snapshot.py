"""Snapshot what users read (DC score tables, report JSON) from a fresh in-process demo run, and compare two
snapshots: a refactor must leave them equal apart from run fields.

    python scripts/output_snapshot.py snapshot OUT_DIR [--size small]
    python scripts/output_snapshot.py compare A_DIR B_DIR

The snapshot runs the reference job and every project's ingest_job on a private throwaway Postgres cluster.
Run ids, timestamps, generation times and signatures (which cover generated_at) are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

SCORE_TABLES = ("dc_scores", "dc_section_scores", "dc_platform_scores", "dc_metric_contributions")
# code_version names the commit, which a refactor changes by definition.
RUN_FIELDS = ("generated_at", "generation_seconds", "dagster_run_id", "signature", "code_version")


def snapshot(out: Path, size: str) -> None:
    from dc_pipeline import runner
    from dc_pipeline.adapters import postgres
    from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres
    from dc_pipeline.cli import load_demo

    root = Path(tempfile.mkdtemp(prefix="dc_snapshot_"))
    os.chmod(root, 0o755)
    server = EmbeddedPostgres(root / "pg")
    admin = server.ensure_running()
    try:
        name = f"s_{uuid.uuid4().hex[:8]}"
        postgres.ensure_database(admin, name)
        postgres.ensure_database(admin, f"{name}_dagster")
        url = postgres.database_url(admin, name)
        load_demo(url, size, 42)
        os.environ.update(
            DATABASE_URL=url,
            REPORTS_DIR=str(root / "reports"),
            DAGSTER_PG_URL=postgres.database_url(admin, f"{name}_dagster"),
        )
        instance = runner.prepare_instance(root / "dagster_home", url)
        from dc_pipeline.definitions import build_definitions

        defs = build_definitions()
        runner.run_reference(defs, instance)
        summary = runner.run_projects(defs, instance, runner.project_keys(instance))
        out.mkdir(parents=True, exist_ok=True)
        (out / "runs.json").write_text(
            json.dumps({"succeeded": sorted(summary.succeeded), "failed": sorted(summary.failed)}, indent=1)
        )
        with postgres.connect(url) as conn:
            for table in SCORE_TABLES:
                frame = postgres.read_frame(conn, f"SELECT * FROM dc_core.{table}")
                frame = frame.drop(columns=[c for c in ("run_id",) if c in frame.columns])
                frame = frame[sorted(frame.columns)].sort_values(sorted(frame.columns)).reset_index(drop=True)
                frame.to_csv(out / f"{table}.csv", index=False, float_format="%.12g")
        for path in sorted((root / "reports").glob("p*/*/latest.json")):
            envelope = json.loads(path.read_text())
            for key in RUN_FIELDS:
                envelope.get("system_metadata", {}).pop(key, None)
            target = out / "reports" / path.parent.parent.name / f"{path.parent.name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(envelope, indent=1, sort_keys=True))
        instance.dispose()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def compare(a: Path, b: Path) -> int:
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    problems = [f"only in {a}: {p}" for p in sorted(files_a - files_b)]
    problems += [f"only in {b}: {p}" for p in sorted(files_b - files_a)]
    for rel in sorted(files_a & files_b):
        if (a / rel).read_bytes() != (b / rel).read_bytes():
            problems.append(f"differs: {rel}")
    print("\n".join(problems) if problems else f"identical: {len(files_a)} files")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("out", type=Path)
    snap.add_argument("--size", default="small")
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "snapshot":
        snapshot(args.out, args.size)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
