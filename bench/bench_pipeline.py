"""Benchmark: load a large portfolio and score it through Dagster, next to a floor.

    python bench/bench_pipeline.py [--size large|medium|small] [--batch 50] [--dsn URL]

Generates the demo portfolio of the given size (large: >= 5 million normalisedvalue rows),
loads it with COPY into a throwaway Postgres cluster (or --dsn), then materializes
src_normalised_values -> validated_values -> dc_scores over all project partitions through
Dagster in batched runs (partition ranges, as a multi-run backfill does). The floor, measured
in the same run: a bare `COPY (SELECT ...) TO STDOUT` of the same rows plus a vectorised numpy
weighted mean per brand-period. Prints a table with rows/s and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.adapters import postgres  # noqa: E402
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres  # noqa: E402
from dc_pipeline.demo.dataset import demo_dataset  # noqa: E402


def floor_read_and_mean(url: str) -> tuple[float, int]:
    """Bare COPY of the value rows into numpy, then a weighted mean per brand-period."""
    started = time.perf_counter()
    buffer = io.BytesIO()
    with postgres.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY (SELECT v.project_id, v.brand_id, v.period - date '2000-01-01', v.normalized_value, m.weight "
            "FROM public.normalisedvalue v JOIN public.metrics m USING (metric_id)) TO STDOUT"
        ) as copy:
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    data = pd.read_csv(buffer, sep="\t", header=None, dtype=np.float64, engine="c").to_numpy()
    project, brand, day, value, weight = data.T
    group = np.unique(np.stack([project, brand, day]), axis=1, return_inverse=True)[1].ravel()
    dc = np.bincount(group, weights=value * weight) / np.bincount(group, weights=weight)
    assert np.isfinite(dc).all()
    return time.perf_counter() - started, len(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--batch", type=int, default=50, help="project partitions per Dagster run")
    parser.add_argument("--dsn", default=None, help="an existing server's admin URL (default: a throwaway cluster)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="dc_bench_"))
    os.chmod(workdir, 0o755)
    server = None
    if args.dsn:
        admin = args.dsn
    else:
        server = EmbeddedPostgres(workdir / "pg")
        admin = server.ensure_running()
    try:
        postgres.ensure_database(admin, "bench_digi_cadence")
        url = postgres.database_url(admin, "bench_digi_cadence")
        rows = []

        started = time.perf_counter()
        data = demo_dataset(args.size)
        n_values = len(data.tables["normalisedvalue"])
        rows.append(("generate demo data", n_values, time.perf_counter() - started))

        started = time.perf_counter()
        with postgres.connect(url) as conn:
            postgres.init_source_schema(conn)
            postgres.init_pipeline_schemas(conn)
            postgres.load_source_tables(conn, data.tables)
            conn.commit()
        load_s = time.perf_counter() - started
        rows.append(("load: COPY all source tables", n_values, load_s))
        del data

        floor_s, floor_rows = floor_read_and_mean(url)
        rows.append(("floor: COPY out + numpy weighted mean", floor_rows, floor_s))

        os.environ["DATABASE_URL"] = url
        os.environ["REPORTS_DIR"] = str(workdir / "reports")
        os.environ["DAGSTER_PG_URL"] = postgres.database_url(admin, "bench_dagster")
        from dc_pipeline import runner
        from dc_pipeline.definitions import build_definitions

        instance = runner.prepare_instance(workdir / "dagster_home", url)
        defs = build_definitions()
        runner.run_reference(defs, instance)
        keys = runner.project_keys(instance)
        started = time.perf_counter()
        summary = runner.run_projects(defs, instance, keys, job_name="scoring_job", batch_size=args.batch)
        score_s = time.perf_counter() - started
        if summary.failed:
            print(
                f"{len(summary.failed)} partitions failed, e.g. {next(iter(summary.failed.items()))}", file=sys.stderr
            )
        with postgres.connect(url) as conn:
            scored = conn.execute("SELECT count(*) FROM dc_core.dc_metric_contributions").fetchone()[0]
            brand_periods = conn.execute("SELECT count(*) FROM dc_core.dc_scores").fetchone()[0]
        n_runs = -(-len(keys) // args.batch)
        rows.append(
            (f"dagster: src -> validated -> dc_scores ({len(keys)} partitions, {n_runs} runs)", n_values, score_s)
        )
        instance.dispose()

        print(
            f"\nportfolio: {args.size}, {n_values:,} normalisedvalue rows, {brand_periods:,} brand-periods scored, "
            f"{scored:,} metric contributions\n"
        )
        print(f"| {'step':<72} | {'rows':>11} | {'seconds':>8} | {'rows/s':>11} |")
        print(f"|{'-' * 74}|{'-' * 13}|{'-' * 10}|{'-' * 13}|")
        for name, n, seconds in rows:
            print(f"| {name:<72} | {n:>11,} | {seconds:>8.1f} | {n / seconds:>11,.0f} |")
        print(
            f"\nratio, Dagster scoring path / floor: {score_s / floor_s:.1f}x the floor's time "
            f"({(n_values / score_s) / (floor_rows / floor_s):.3f} of its rows/s)"
        )
        print(f"ratio, load / floor read: {load_s / floor_s:.1f}x")
        return 0 if not summary.failed else 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
