"""Reads run and step durations from the Dagster instance for the performance monitor and the
weekly report."""

from __future__ import annotations

from datetime import datetime, timedelta

import dagster as dg
import pandas as pd

from dc_pipeline.domain.operations.performance import run_duration_stats, step_duration_stats

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]


def recent_runs(instance: dg.DagsterInstance, since: datetime, limit: int = 500) -> pd.DataFrame:
    """Finished runs since `since`: run_id, job_name, status, start_time, end_time (epoch s)."""
    records = instance.get_run_records(dg.RunsFilter(statuses=FINISHED, created_after=since), limit=limit)
    rows = [
        (r.dagster_run.run_id, r.dagster_run.job_name, r.dagster_run.status.value, r.start_time, r.end_time)
        for r in records
    ]
    return pd.DataFrame(rows, columns=["run_id", "job_name", "status", "start_time", "end_time"]).astype(
        {"start_time": "float64", "end_time": "float64"}
    )


def step_stats(instance: dg.DagsterInstance, run_ids: list[str]) -> pd.DataFrame:
    """Per step key over the given runs: n, p50_s, p95_s (steps of the most recent runs only)."""
    rows = []
    for run_id in run_ids:
        for stat in instance.get_run_step_stats(run_id):
            if stat.start_time and stat.end_time:
                rows.append((stat.step_key, stat.end_time - stat.start_time))
    if not rows:
        return pd.DataFrame(columns=["step_key", "n", "p50_s", "p95_s"])
    return step_duration_stats(pd.DataFrame(rows, columns=["step_key", "duration_s"]))


def duration_summary(
    instance: dg.DagsterInstance, now: datetime, hours: int = 24, step_runs: int = 20
) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs = recent_runs(instance, now - timedelta(hours=hours))
    return run_duration_stats(runs), step_stats(instance, list(runs["run_id"].head(step_runs)))
