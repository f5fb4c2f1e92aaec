"""Benchmark: load a large portfolio and score it through Dagster, next to a floor.

    python bench/bench_pipeline.py [--size large|medium|small] [--projects N] [--batch 50] [--dsn URL] [--profile FILE]

Generates the demo portfolio of the given size (large: >= 5 million normalisedvalue rows; --projects
scales it, about 16 k value rows a project at size large: 62 -> 1 M, 125 -> 2 M, 640 -> 10 M),
loads it with COPY into a throwaway Postgres cluster (or --dsn), then materializes
src_normalised_values -> validated_values -> dc_scores over all project partitions through
Dagster in batched runs (partition ranges, as a multi-run backfill does). The floor, measured
in the same run: a bare `COPY (SELECT ...) TO STDOUT` of the same rows plus a vectorised numpy
weighted mean per brand-period; beside it the write floor, a bare binary COPY in of the same rows into a logged
and an unlogged table of the same shape (what a path that lands its rows pays at least per write).
Prints a table with rows/s and the ratio to the floor, then each
step's seconds and its peak resident memory above the resident set at its start (sampled every 20 ms
while the runs go, matched to the steps by their start and end events), beside the batch's value rows and as a
multiple of the batch frame: the landed rows of the first batch read back (`src_normalised_values`, scaled to the
mean batch), counted deep (`memory_usage(deep=True)`: a Python string per row) and as its own bytes (numeric
buffers and masks, each distinct string object once), so the table shows what "a step holds N batches" means.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

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


def floor_write(url: str, logged: bool) -> tuple[float, int]:
    """COPY in of the same value rows (binary, as the pipeline writes them) into a new table of the same
    shape without indexes: what one write of the rows costs at least. The rows are read out untimed first."""
    buffer = io.BytesIO()
    table = "public.bench_write_floor"
    with postgres.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY public.normalisedvalue TO STDOUT WITH (FORMAT binary)") as copy:
            for chunk in copy:
                buffer.write(chunk)
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE {'' if logged else 'UNLOGGED '}TABLE {table} (LIKE public.normalisedvalue)")
        conn.commit()
        started = time.perf_counter()
        with cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT binary)") as copy:
            copy.write(buffer.getvalue())
        conn.commit()
        seconds = time.perf_counter() - started
        rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        cur.execute(f"DROP TABLE {table}")
        conn.commit()
    return seconds, rows


class RssSampler(threading.Thread):
    """(time, resident bytes) of this process every `every` seconds until stopped."""

    def __init__(self, every: float = 0.02):
        super().__init__(daemon=True)
        self.every, self.samples, self._done = every, [], threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.every):
            with open("/proc/self/statm") as statm:
                self.samples.append((time.time(), int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")))

    def stop(self) -> None:
        self._done.set()
        self.join()


def cpu_seconds(postmaster_pid_file: Path | None) -> tuple[float, float | None]:
    """CPU seconds so far of this process and of the Postgres server (postmaster, live backends and the
    backends it reaped); the server's is None when it is not ours (--dsn)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    if postmaster_pid_file is None or not postmaster_pid_file.exists():
        return own.ru_utime + own.ru_stime, None
    root = psutil.Process(int(postmaster_pid_file.read_text().split()[0]))
    times = root.cpu_times()
    server = times.user + times.system + times.children_user + times.children_system
    for child in root.children(recursive=True):
        try:
            times = child.cpu_times()
            server += times.user + times.system
        except psutil.Error:  # ended meanwhile: its time is in the postmaster's children times
            pass
    return own.ru_utime + own.ru_stime, server


def batch_frame_bytes(url: str, project_ids: list[int]) -> tuple[int, int, int]:
    """(rows, deep bytes, own bytes) of the landed value rows of the given projects as the reader returns them."""
    from dc_pipeline.adapters.postgres import read_table

    with postgres.connect(url) as conn:
        frame = read_table(conn, "dc_staging.src_normalised_values", {"project_id": project_ids})
    own = 0
    for column in frame.columns:
        values = frame[column].array
        if frame[column].dtype == object:
            distinct = {id(v): v for v in values}
            own += 8 * len(values) + sum(sys.getsizeof(v) for v in distinct.values())
        else:
            own += values.nbytes
    return len(frame), int(frame.memory_usage(deep=True).sum()), own


def step_figures(instance, run_ids: list[str], samples: list[tuple[float, int]]) -> dict[str, tuple[float, int]]:
    """step -> (seconds over all runs, largest peak resident bytes above the step's starting resident set)."""
    import dagster as dg

    times = np.array([t for t, _ in samples])
    rss = np.array([r for _, r in samples])
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    seconds: dict[str, float] = defaultdict(float)
    growth: dict[str, int] = defaultdict(int)
    for run_id in run_ids:
        started = {}
        for record in instance.get_records_for_run(run_id, of_type=kinds).records:
            entry = record.event_log_entry
            if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                started[entry.step_key] = entry.timestamp
                continue
            begin = started.pop(entry.step_key, None)
            if begin is None:
                continue
            seconds[entry.step_key] += entry.timestamp - begin
            inside = rss[(times >= begin) & (times <= entry.timestamp)]
            before = rss[times <= begin]
            if len(inside) and len(before):
                growth[entry.step_key] = max(growth[entry.step_key], int(inside.max() - before[-1]))
    return {step: (seconds[step], growth[step]) for step in seconds}


def _start_profile(path: str | None, url: str):
    if not path:
        return None
    import cProfile

    with postgres.connect(url) as conn:
        conn.autocommit = True
        conn.execute("ALTER SYSTEM SET log_min_duration_statement = 200")
        conn.execute("SELECT pg_reload_conf()")
    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _end_profile(profiler, path: str | None, url: str, server) -> None:
    """Dump the profile; print the slow statements the server logged (their text cut to 160 characters)."""
    if profiler is None:
        return
    profiler.disable()
    profiler.dump_stats(path)
    with postgres.connect(url) as conn:
        conn.autocommit = True
        conn.execute("ALTER SYSTEM RESET log_min_duration_statement")
        conn.execute("SELECT pg_reload_conf()")
    if server is None:
        return
    durations: dict[str, list[float]] = defaultdict(list)
    for line in (server.root / "pgdata" / "server.log").read_text(errors="replace").splitlines():
        if "duration:" in line and "statement:" in line:
            ms = float(line.split("duration:")[1].split("ms")[0])
            durations[line.split("statement:", 1)[1].strip()[:160]].append(ms)
    print("\nstatements of 0.2 s or more during the scoring runs (count, total s, text):")
    for text, ms in sorted(durations.items(), key=lambda item: -sum(item[1]))[:25]:
        print(f"  {len(ms):>4} {sum(ms) / 1000:>8.1f}  {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--projects", type=int, default=None, help="generated projects (default: the size's)")
    parser.add_argument("--batch", type=int, default=50, help="project partitions per Dagster run")
    parser.add_argument("--dsn", default=None, help="an existing server's admin URL (default: a throwaway cluster)")
    parser.add_argument(
        "--profile",
        default=None,
        help="write cProfile stats of the scoring runs to this file and print the statements of 0.2 s or more "
        "(log_min_duration_statement on the throwaway cluster)",
    )
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
        data = demo_dataset(args.size, **({"projects": args.projects} if args.projects else {}))
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
        write_s, write_rows = floor_write(url, logged=True)
        rows.append(("write floor: COPY in of the same rows (logged table, no index)", write_rows, write_s))
        unlogged_s, unlogged_rows = floor_write(url, logged=False)
        rows.append(("write floor: the same into an unlogged table", unlogged_rows, unlogged_s))

        os.environ["DATABASE_URL"] = url
        os.environ["REPORTS_DIR"] = str(workdir / "reports")
        os.environ["DAGSTER_PG_URL"] = postgres.database_url(admin, "bench_dagster")
        from dc_pipeline import runner
        from dc_pipeline.definitions import build_definitions

        instance = runner.prepare_instance(workdir / "dagster_home", url)
        defs = build_definitions()
        runner.run_reference(defs, instance)
        keys = runner.project_keys(instance)
        known_runs = {r.run_id for r in instance.get_runs()}
        sampler = RssSampler()
        sampler.start()
        pid_file = None if server is None else server.root / "pgdata" / "postmaster.pid"
        profiler = _start_profile(args.profile, url)
        cpu_before = cpu_seconds(pid_file)
        started = time.perf_counter()
        summary = runner.run_projects(defs, instance, keys, job_name="scoring_job", batch_size=args.batch)
        score_s = time.perf_counter() - started
        _end_profile(profiler, args.profile, url, server)
        cpu_after = cpu_seconds(pid_file)
        sampler.stop()
        run_ids = [r.run_id for r in instance.get_runs() if r.run_id not in known_runs]
        steps = step_figures(instance, run_ids, sampler.samples)
        peak_rss = max(r for _, r in sampler.samples)
        if summary.failed:
            print(
                f"{len(summary.failed)} partitions failed, e.g. {next(iter(summary.failed.items()))}", file=sys.stderr
            )
        with postgres.connect(url) as conn:
            scored = conn.execute("SELECT count(*) FROM dc_core.dc_metric_contributions").fetchone()[0]
            brand_periods = conn.execute("SELECT count(*) FROM dc_core.dc_scores").fetchone()[0]
        n_runs = -(-len(keys) // args.batch)
        from dc_pipeline.domain.partition_keys import project_id_of

        frame_rows, frame_deep, frame_own = batch_frame_bytes(url, [project_id_of(k) for k in keys[: args.batch]])
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
        # The path reads the rows and writes them three times (landing, validated, contributions).
        landing_floor = floor_s + 3 * write_s
        print(
            f"ratio, Dagster scoring path / (floor read + 3 logged writes = {landing_floor:.1f} s): "
            f"{score_s / landing_floor:.1f}x"
        )
        own_cpu = cpu_after[0] - cpu_before[0]
        server_cpu = None if cpu_after[1] is None else cpu_after[1] - cpu_before[1]
        print(
            f"scoring path CPU: this process {own_cpu:.1f} s ({n_values / own_cpu:,.0f} rows per CPU s)"
            + (
                ""
                if server_cpu is None
                else f", Postgres {server_cpu:.1f} s; together {n_values / (own_cpu + server_cpu):,.0f} rows per CPU s"
            )
            + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        batch_rows = n_values * min(args.batch, len(keys)) / len(keys)
        deep_row, own_row = frame_deep / max(frame_rows, 1), frame_own / max(frame_rows, 1)
        print(
            f"\nsteps (a batch of {min(args.batch, len(keys))} partitions holds about {batch_rows:,.0f} value rows, "
            f"as a frame {deep_row * batch_rows / 2**20:,.0f} MiB deep ({deep_row:,.0f} B a row) and "
            f"{own_row * batch_rows / 2**20:,.0f} MiB of its own bytes ({own_row:,.0f} B a row); "
            f"process peak {peak_rss / 2**20:,.0f} MiB, {sampler.samples[0][1] / 2**20:,.0f} MiB as the runs began):\n"
        )
        head = f"| {'step':<36} | {'seconds':>8} | {'rows/s':>10} | {'peak MiB above start':>20} |"
        print(f"{head} {'bytes/batch row':>15} | {'x batch (deep)':>14} | {'x batch (own)':>13} |")
        print(f"|{'-' * 38}|{'-' * 10}|{'-' * 12}|{'-' * 22}|{'-' * 17}|{'-' * 16}|{'-' * 15}|")
        for step, (seconds, grown) in sorted(steps.items(), key=lambda item: -item[1][0]):
            print(
                f"| {step:<36} | {seconds:>8.1f} | {n_values / max(seconds, 1e-9):>10,.0f} | "
                f"{grown / 2**20:>20,.0f} | {grown / batch_rows:>15,.0f} | "
                f"{grown / batch_rows / deep_row:>14.2f} | {grown / batch_rows / own_row:>13.2f} |"
            )
        return 0 if not summary.failed else 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
