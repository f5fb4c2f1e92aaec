"""Benchmark: Optuna tuning of the demo portfolio's score->outcome models on Postgres RDB storage.

    python bench/bench_tuning.py [--n-trials 6] [--n-boot 10] [--repeats 3] [--threads]
                                 [--projects 101,102] [--dsn URL]

Builds the SPEC §6a observations of every generated demo project in memory (DC and section scores
from `compute_dc_scores`, outcomes from the source table), then tunes one study per (project,
outcome) in the `optuna` schema of a scratch database, with
  - 1 worker: one process, n_jobs=1;
  - 2 workers: two processes on the same storage (as two Dagster steps of the `optuna` pool);
  - with --threads, 2 threads: one process, every study with n_jobs=2 (Optuna threads sharing it).
Workers are spawned and warmed up (imports, storage) before the clock starts: their start-up is
reported apart. Studies are handed out one at a time, longest first, so no worker idles while
the other still has a queue. Every configuration uses fresh studies (its own study-name version)
and runs --repeats times, alternating; the table shows medians. Printed per configuration: tuning
wall time, speed-up over 1 worker (per repeat, then median), trials per second, CPU seconds per
trial of the workers (whole fit: tuning plus the post-tuning fit; unlike wall time, load on the
machine hardly changes it) and of the Postgres server (embedded server only), and the 1-minute
load average when the configuration started, the CPU the rest of the machine used meanwhile
(`others_cores`: busy CPU seconds of the whole machine minus those of the bench's processes and the
embedded Postgres, per wall second; on 2 cores, one other always-runnable process leaves 1 worker a
core but 2 workers 4/3 of one: about 1.33x, whatever the code does), the SQL statements per trial
the workers sent (load does not change it). Per worker (its main thread, from /proc/PID/schedstat,
Linux only), the tuning wall time splits into `run_s` (on a core), `queued_s` (runnable, waiting for
a core: the machine's contention) and `off_cpu_s` (the rest: waiting for Postgres, locks, idle after
its last study); serialisation between workers shows as off-CPU time, a busy machine as queued time.
`speedup_unqueued_est` is the speed-up of these wall times less the queued time (per repeat, then
median): an estimate of what the code gives on cores of its own, not a measurement. --n-boot only
shortens the post-tuning bootstrap of the effect CI (SPEC default 500), which is not part of tuning.

Without --dsn (or TEST_DATABASE_URL) the embedded Postgres of DC_HOME is used; the scratch
database `dc_bench_tuning` is dropped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.adapters import optuna_storage, postgres  # noqa: E402
from dc_pipeline.demo.dataset import demo_dataset  # noqa: E402
from dc_pipeline.domain.outcome_models import fit_outcome_model  # noqa: E402
from dc_pipeline.domain.scoring import compute_dc_scores  # noqa: E402
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS  # noqa: E402
from dc_pipeline.domain.tuning import TuningSettings, make_pruner, make_sampler, study_seed  # noqa: E402

SCRATCH_DB = "dc_bench_tuning"


def portfolio_observations(project_ids: list[int]) -> dict[int, pd.DataFrame]:
    """brand_id, period, dc, SECTIONS and outcome columns per project (clean rows only: values in
    [0, 100], one per key, as validation would leave them)."""
    tables = demo_dataset(size="small", seed=42).tables
    values = tables["normalisedvalue"]
    values = values[values["normalized_value"].between(0, 100) & values["project_id"].isin(project_ids)]
    values = values.drop_duplicates(["project_id", "brand_id", "metric_id", "period"], keep=False)
    values = values[values["metric_id"].isin(tables["metrics"]["metric_id"])]
    values = values.assign(period=pd.to_datetime(values["period"]))
    scores = compute_dc_scores(
        values[["project_id", "brand_id", "metric_id", "period", "normalized_value"]], tables["metrics"]
    )
    dc = scores.brands[["project_id", "brand_id", "period", "dc_score"]].rename(columns={"dc_score": "dc"})
    sections = scores.sections.pivot_table(
        index=["project_id", "brand_id", "period"], columns="section_name", values="section_score"
    ).reset_index()
    outcomes = tables["business_outcomes"].assign(period=lambda f: pd.to_datetime(f["period"]))
    obs = dc.merge(sections, on=["project_id", "brand_id", "period"], how="left").merge(
        outcomes[["project_id", "brand_id", "period", *OUTCOME_COLUMNS]],
        on=["project_id", "brand_id", "period"],
        how="left",
    )
    for column in OUTCOME_COLUMNS:
        obs[column] = pd.to_numeric(obs[column], errors="coerce").where(lambda s: s >= 0)
    return {int(p): g.drop(columns="project_id").reset_index(drop=True) for p, g in obs.groupby("project_id")}


def study_jobs(observations: dict[int, pd.DataFrame]) -> list[tuple[int, str]]:
    """(project, target) pairs with any observed value (the others are not tuned), the ones with
    most observations first: handed out in this order, the last studies to finish are short."""
    jobs = [(p, t, int(obs[t].notna().sum())) for p, obs in sorted(observations.items()) for t in OUTCOME_COLUMNS]
    return [(p, t) for p, t, n in sorted(jobs, key=lambda j: -j[2]) if n > 0]


# --- worker processes -------------------------------------------------------------------------------

_WORKER: dict = {}


def _start_worker(storage_url: str, observations: dict[int, pd.DataFrame], n_trials: int, n_jobs: int, n_boot: int):
    """Pool initializer: everything a worker needs, loaded before the clock starts."""
    _WORKER.update(
        storage=optuna_storage.get_storage(storage_url),
        observations=observations,
        settings=TuningSettings(n_trials=n_trials, timeout_s=3600, n_jobs=n_jobs, sampler="TPE", pruner="median"),
        n_boot=n_boot,
        statements=0,
    )

    def _count(*_args) -> None:
        _WORKER["statements"] += 1

    event.listen(_WORKER["storage"].engine, "before_cursor_execute", _count)


def _ready(_: int) -> int:
    return os.getpid()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def tune_one(job: tuple[int, str, str]) -> dict:
    """Tune one study in this worker; returns its trials and the worker CPU seconds it took."""
    project_id, target, version = job
    storage, settings = _WORKER["storage"], _WORKER["settings"]

    def factory(name: str, direction: str):
        return optuna_storage.open_study(
            storage, name, direction, make_sampler("TPE", study_seed(name)), make_pruner("median")
        )

    obs = _WORKER["observations"][project_id]
    started, statements = _cpu_seconds(), _WORKER["statements"]
    result = fit_outcome_model(
        obs[["brand_id", "period", "dc", *SECTIONS, target]],
        target,
        project_id=project_id,
        data_version=version,
        settings=settings,
        study_factory=factory,
        n_boot=_WORKER["n_boot"],
    )
    study = result.study
    trials = 0 if study is None else study.n_complete + study.n_pruned + study.n_failed
    return {"trials": trials, "cpu_s": _cpu_seconds() - started, "statements": _WORKER["statements"] - statements}


# --- measurement ------------------------------------------------------------------------------------


def postgres_cpu_seconds(pid_file: Path | None) -> float | None:
    """CPU seconds used so far by the embedded server's processes (None when not known)."""
    if pid_file is None or not pid_file.exists():
        return None
    try:
        root = psutil.Process(int(pid_file.read_text().split()[0]))
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            with_children = process.cpu_times()
            total += with_children.user + with_children.system
        return total
    except (psutil.Error, ValueError):
        return None


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, everything but idle and I/O wait)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def own_cpu_seconds(pid_file: Path | None) -> float:
    """CPU seconds of this bench (main process and its workers) and of the embedded Postgres."""
    total = 0.0
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total + (postgres_cpu_seconds(pid_file) or 0.0)


def schedstat_seconds(pid: int) -> tuple[float, float] | None:
    """(on-CPU, waiting-for-a-CPU) seconds of a process's main thread so far (None off Linux)."""
    try:
        run_ns, queued_ns, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
        return int(run_ns) / 1e9, int(queued_ns) / 1e9
    except (OSError, ValueError):
        return None


def run_configuration(
    storage_url: str, observations, jobs, n_workers: int, n_jobs: int, n_trials: int, n_boot: int, pid_file
) -> dict:
    version = f"{uuid.uuid4().hex[:8]}w{n_workers}j{n_jobs}"
    load = os.getloadavg()[0]
    started = time.perf_counter()
    context = mp.get_context("spawn")
    init = (storage_url, observations, n_trials, n_jobs, n_boot)
    with context.Pool(n_workers, initializer=_start_worker, initargs=init) as pool:
        pool.map(_ready, range(n_workers), chunksize=1)  # every worker started and warmed up
        startup = time.perf_counter() - started
        workers = [process.pid for process in pool._pool]  # the pool's worker processes
        sched_before = [schedstat_seconds(pid) for pid in workers]
        pg_before, busy_before, own_before = (
            postgres_cpu_seconds(pid_file),
            machine_busy_seconds(),
            own_cpu_seconds(pid_file),
        )
        clock = time.perf_counter()
        parts = list(pool.imap_unordered(tune_one, [(p, t, version) for p, t in jobs], chunksize=1))
        wall = time.perf_counter() - clock
        pg_after, busy_after, own_after = (
            postgres_cpu_seconds(pid_file),
            machine_busy_seconds(),
            own_cpu_seconds(pid_file),
        )
        sched_after = [schedstat_seconds(pid) for pid in workers]
    spans = [(a[0] - b[0], a[1] - b[1]) for b, a in zip(sched_before, sched_after) if a and b]
    run_s = statistics.mean(r for r, _ in spans) if spans else float("nan")
    queued_s = statistics.mean(q for _, q in spans) if spans else float("nan")
    trials = sum(p["trials"] for p in parts)
    return {
        "wall_s": wall,
        "startup_s": startup,
        "trials": trials,
        "worker_cpu_per_trial": sum(p["cpu_s"] for p in parts) / max(trials, 1),
        "pg_cpu_per_trial": None if pg_before is None or pg_after is None else (pg_after - pg_before) / max(trials, 1),
        "load": load,
        "others_cores": max(0.0, (busy_after - busy_before) - (own_after - own_before)) / wall,
        "statements_per_trial": sum(p["statements"] for p in parts) / max(trials, 1),
        "run_s": run_s,
        "queued_s": queued_s,
        "off_cpu_s": wall - run_s - queued_s,
    }


def unqueued(run: dict) -> float:
    """A worker's tuning wall time without the time it waited for a core (on-CPU + off-CPU)."""
    return run["run_s"] + run["off_cpu_s"]


def bench(storage_url: str, observations, n_trials: int, n_boot: int, repeats: int, threads: bool, pid_file):
    jobs = study_jobs(observations)
    configurations = [("1 worker (1 process, n_jobs=1)", 1, 1), ("2 workers (2 processes, n_jobs=1)", 2, 1)]
    if threads:
        configurations.append(("2 threads (1 process, n_jobs=2)", 1, 2))
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in configurations}
    for _ in range(repeats):
        for name, n_workers, n_jobs in configurations:
            runs[name].append(
                run_configuration(storage_url, observations, jobs, n_workers, n_jobs, n_trials, n_boot, pid_file)
            )
    base = runs[configurations[0][0]]
    rows = []
    for name, _, _ in configurations:
        own = runs[name]

        def median(key: str, own=own) -> float:
            return statistics.median(r[key] for r in own)

        pg = [r["pg_cpu_per_trial"] for r in own if r["pg_cpu_per_trial"] is not None]
        rows.append(
            {
                "configuration": name,
                "studies": len(jobs),
                "trials": int(median("trials")),
                "wall_s": round(median("wall_s"), 2),
                "speedup": round(statistics.median(b["wall_s"] / r["wall_s"] for b, r in zip(base, own)), 2),
                "speedup_each": " ".join(f"{b['wall_s'] / r['wall_s']:.2f}" for b, r in zip(base, own)),
                "speedup_unqueued_est": round(
                    statistics.median(unqueued(b) / unqueued(r) for b, r in zip(base, own)), 2
                ),
                "trials_per_s": round(median("trials") / median("wall_s"), 2),
                "worker_cpu_s_per_trial": round(median("worker_cpu_per_trial"), 3),
                "pg_cpu_s_per_trial": round(statistics.median(pg), 4) if pg else np.nan,
                "startup_s": round(median("startup_s"), 2),
                "statements_per_trial": round(median("statements_per_trial"), 1),
                "run_s": round(median("run_s"), 2),
                "queued_s": round(median("queued_s"), 2),
                "off_cpu_s": round(median("off_cpu_s"), 2),
                "load_1min": round(median("load"), 2),
                "others_cores": round(median("others_cores"), 2),
                "walls": " ".join(f"{r['wall_s']:.1f}" for r in own),
                "others_cores_each": " ".join(f"{r['others_cores']:.2f}" for r in own),
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=6)
    parser.add_argument("--n-boot", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--projects", default="101,102")
    parser.add_argument("--threads", action="store_true", help="also time one process with n_jobs=2")
    parser.add_argument("--dsn", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    pid_file = None
    if args.dsn:
        server = args.dsn
    else:
        from dc_pipeline.adapters.database_location import embedded_server

        embedded = embedded_server()
        server = embedded.ensure_running()
        pid_file = embedded.root / "pgdata" / "postmaster.pid"
    postgres.ensure_database(server, SCRATCH_DB)
    url = postgres.database_url(server, SCRATCH_DB)
    projects = [int(p) for p in args.projects.split(",")]
    observations = portfolio_observations(projects)
    print(
        f"demo portfolio: projects {projects}, {sum(len(o) for o in observations.values())} brand-periods, "
        f"{len(study_jobs(observations))} studies x {args.n_trials} trials, cpu_count {os.cpu_count()}, "
        f"median of {args.repeats} repeat(s)"
    )
    try:
        table = bench(
            optuna_storage.default_storage_url(url),
            observations,
            args.n_trials,
            args.n_boot,
            args.repeats,
            args.threads,
            pid_file,
        )
        print(table.to_markdown(index=False))
    finally:
        optuna_storage.dispose_storages()
        with postgres.connect(postgres.database_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
