"""Benchmark: Optuna tuning of the demo portfolio's score->outcome models on Postgres RDB storage.

    python bench/bench_tuning.py [--n-trials 6] [--n-boot 50] [--threads] [--projects 101,102,103,104] [--dsn URL]

Builds the SPEC §6a observations of every generated demo project in memory (DC and section scores
from `compute_dc_scores`, outcomes from the source table), then tunes one study per (project,
outcome) in the `optuna` schema of a scratch database, two ways (three with --threads):
  - 1 worker: one process, studies one after another, n_jobs=1;
  - 2 workers: two processes (spawn) on the same storage, each taking every other study;
  - with --threads, 2 threads: one process, every study with n_jobs=2 (Optuna threads sharing it).
Each configuration uses fresh studies (its own study-name version). Printed per configuration:
studies, trials run, tuning wall time (the whole configuration, start to end of its workers),
trials per second, and the sum of the per-study optimize() times. --n-boot only shortens the
post-tuning bootstrap of the effect CI (SPEC default 500), which is not part of tuning.

Without --dsn (or TEST_DATABASE_URL) the embedded Postgres of DC_HOME is used; the scratch
database `dc_bench_tuning` is dropped at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

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
    """(project, target) pairs with any observed value (the others are not tuned)."""
    return [(p, t) for p, obs in sorted(observations.items()) for t in OUTCOME_COLUMNS if obs[t].notna().any()]


def run_studies(
    storage_url: str,
    observations: dict[int, pd.DataFrame],
    jobs: list[tuple[int, str]],
    version: str,
    n_trials: int,
    n_jobs: int,
    n_boot: int,
) -> dict:
    """Tune the given studies in this process; returns trials run and optimize() seconds."""
    storage = optuna_storage.get_storage(storage_url)
    settings = TuningSettings(n_trials=n_trials, timeout_s=3600, n_jobs=n_jobs, sampler="TPE", pruner="median")

    def factory(name: str, direction: str):
        return optuna_storage.open_study(
            storage, name, direction, make_sampler("TPE", study_seed(name)), make_pruner("median")
        )

    trials, seconds = 0, 0.0
    for project_id, target in jobs:
        obs = observations[project_id]
        result = fit_outcome_model(
            obs[["brand_id", "period", "dc", *SECTIONS, target]],
            target,
            project_id=project_id,
            data_version=version,
            settings=settings,
            study_factory=factory,
            n_boot=n_boot,
        )
        if result.study is not None:
            trials += result.study.n_complete + result.study.n_pruned + result.study.n_failed
            seconds += result.study.wall_seconds
    return {"trials": trials, "optimize_seconds": seconds, "studies": len(jobs)}


def _worker(args: tuple) -> dict:
    return run_studies(*args)


def bench(
    storage_url: str, observations: dict[int, pd.DataFrame], n_trials: int, n_boot: int, with_threads: bool = False
) -> pd.DataFrame:
    jobs = study_jobs(observations)
    token = uuid.uuid4().hex[:8]
    rows = []

    started = time.perf_counter()
    one = run_studies(storage_url, observations, jobs, f"{token}w1", n_trials, 1, n_boot)
    rows.append(("1 worker (1 process, n_jobs=1)", one, time.perf_counter() - started))

    started = time.perf_counter()
    with mp.get_context("spawn").Pool(2) as pool:
        parts = pool.map(
            _worker, [(storage_url, observations, jobs[i::2], f"{token}w2", n_trials, 1, n_boot) for i in range(2)]
        )
    wall = time.perf_counter() - started
    rows.append(
        (
            "2 workers (2 processes, split studies)",
            {k: sum(p[k] for p in parts) for k in ("trials", "optimize_seconds", "studies")},
            wall,
        )
    )

    if with_threads:
        started = time.perf_counter()
        threads = run_studies(storage_url, observations, jobs, f"{token}t2", n_trials, 2, n_boot)
        rows.append(("2 threads (1 process, n_jobs=2)", threads, time.perf_counter() - started))

    return pd.DataFrame(
        [
            {
                "configuration": name,
                "studies": r["studies"],
                "trials": r["trials"],
                "wall_s": round(wall, 2),
                "trials_per_s": round(r["trials"] / wall, 2) if wall > 0 else np.nan,
                "sum_optimize_s": round(r["optimize_seconds"], 2),
            }
            for name, r, wall in rows
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=6)
    parser.add_argument("--n-boot", type=int, default=50)
    parser.add_argument("--projects", default="101,102,103,104")
    parser.add_argument("--threads", action="store_true", help="also time one process with n_jobs=2")
    parser.add_argument("--dsn", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    if args.dsn:
        server = args.dsn
    else:
        from dc_pipeline.adapters.database_location import embedded_server

        server = embedded_server().ensure_running()
    postgres.ensure_database(server, SCRATCH_DB)
    url = postgres.database_url(server, SCRATCH_DB)
    projects = [int(p) for p in args.projects.split(",")]
    observations = portfolio_observations(projects)
    print(
        f"demo portfolio: projects {projects}, {sum(len(o) for o in observations.values())} brand-periods, "
        f"{len(study_jobs(observations))} studies x {args.n_trials} trials, cpu_count {os.cpu_count()}"
    )
    try:
        table = bench(optuna_storage.default_storage_url(url), observations, args.n_trials, args.n_boot, args.threads)
        print(table.to_markdown(index=False))
    finally:
        optuna_storage.dispose_storages()
        with postgres.connect(postgres.database_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
