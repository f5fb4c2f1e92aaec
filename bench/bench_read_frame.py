"""Benchmark: what a Postgres NaN costs the reader (`postgres.read_frame`).

    python bench/bench_read_frame.py [--rows 1000000] [--repeats 3] [--dsn URL]

A table shaped like `normalisedvalue` (id, project_id, brand_id, metric_id, period, normalized_value,
raw_value, source) is read three ways, in the same run: without any NaN (the typed fast path), with
one NaN in normalized_value (the whole read takes the NaN-keeping path: float columns parsed as text,
the NaN column returned as Float64), and the bare `COPY ... TO STDOUT` into memory as the floor.
Prints the median seconds per read and the ratio to the floor.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.adapters import postgres  # noqa: E402
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres  # noqa: E402

QUERY = "SELECT * FROM public.bench_values ORDER BY id"


def _fill(url: str, rows: int) -> None:
    with postgres.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS public.bench_values")
        conn.execute(
            "CREATE TABLE public.bench_values AS SELECT g AS id, 1 + g %% 7 AS project_id, 1 + g %% 50 AS brand_id, "
            "1 + g %% 27 AS metric_id, date '2020-01-01' + ((g %% 60) * 30) AS period, "
            "((g * 0.37) %% 100)::float8 AS normalized_value, "
            "CASE WHEN g %% 3 = 0 THEN NULL ELSE g * 1.5 END AS raw_value, 'db'::text AS source "
            "FROM generate_series(1, %s) AS g",
            (rows,),
        )
        conn.commit()


def _timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _floor(url: str) -> None:
    buffer = io.BytesIO()
    with (
        postgres.connect(url) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY ({QUERY}) TO STDOUT WITH (FORMAT csv)") as copy,
    ):
        for chunk in copy:
            buffer.write(chunk)


def _read(url: str) -> None:
    with postgres.connect(url) as conn:
        frame = postgres.read_frame(conn, QUERY)
    assert len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dsn", default=None, help="a database to use (default: a throwaway embedded cluster)")
    args = parser.parse_args()
    root = None
    if args.dsn:
        url = args.dsn
    else:
        root = Path(tempfile.mkdtemp(prefix="bench_read_frame_"))
        root.chmod(0o755)
        admin = EmbeddedPostgres(root).ensure_running()
        postgres.ensure_database(admin, "bench")
        url = postgres.database_url(admin, "bench")
    try:
        _fill(url, args.rows)
        floor = _timed(lambda: _floor(url), args.repeats)
        clean = _timed(lambda: _read(url), args.repeats)
        with postgres.connect(url) as conn:
            conn.execute("UPDATE public.bench_values SET normalized_value = 'NaN' WHERE id = 1")
            conn.commit()
        with_nan = _timed(lambda: _read(url), args.repeats)
    finally:
        if root is not None:
            EmbeddedPostgres(root).stop()
            shutil.rmtree(root, ignore_errors=True)
    print(f"read_frame of {args.rows:,} rows (median of {args.repeats})")
    print(f"{'path':<34}{'seconds':>9}{'x floor':>9}")
    for name, seconds in (
        ("COPY to memory (floor)", floor),
        ("read_frame, no NaN", clean),
        ("read_frame, one NaN", with_nan),
    ):
        print(f"{name:<34}{seconds:>9.2f}{seconds / floor:>9.1f}")


if __name__ == "__main__":
    main()
