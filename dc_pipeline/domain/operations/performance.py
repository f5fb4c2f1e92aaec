"""Performance monitoring (SPEC §11): run duration statistics and threshold alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

RUN_STATS_COLUMNS = ["job_name", "n_runs", "n_failed", "p50_s", "p95_s", "max_s"]


@dataclass(frozen=True)
class PerformanceThresholds:
    """The seed's monitor warned above 80 % CPU or memory and for a report slower than 60 s."""

    cpu_percent: float = 80.0
    memory_percent: float = 80.0
    canary_seconds: float = 60.0
    min_disk_free_fraction: float = 0.10
    job_p95_seconds: float = 1800.0


def run_duration_stats(runs: pd.DataFrame) -> pd.DataFrame:
    """Per job: finished runs, failures and duration percentiles (s). Columns in: job_name,
    status ('SUCCESS'|'FAILURE'|...), start_time, end_time (epoch seconds, NaN while running)."""
    if runs.empty:
        return pd.DataFrame(columns=RUN_STATS_COLUMNS)
    finished = runs.dropna(subset=["start_time", "end_time"]).copy()
    finished["duration_s"] = finished["end_time"] - finished["start_time"]
    grouped = finished.groupby("job_name")
    stats = pd.DataFrame(
        {
            "n_runs": grouped.size(),
            "n_failed": grouped["status"].apply(lambda s: int((s == "FAILURE").sum())),
            "p50_s": grouped["duration_s"].quantile(0.50),
            "p95_s": grouped["duration_s"].quantile(0.95),
            "max_s": grouped["duration_s"].max(),
        }
    ).reset_index()
    return stats[RUN_STATS_COLUMNS].sort_values("job_name", ignore_index=True)


def performance_breaches(
    sample: Mapping[str, float | None],
    job_stats: pd.DataFrame,
    thresholds: PerformanceThresholds = PerformanceThresholds(),
) -> dict[str, str]:
    """Each threshold crossed, keyed by what crossed it ('cpu', 'memory', 'canary', 'disk',
    'job:<name>'), so a caller can alert once per new breach. `sample` keys: cpu_percent,
    memory_percent, canary_seconds (None when the canary could not run), disk_free_fraction (min
    over folders)."""
    breaches = {}
    for key, limit, label in (
        ("cpu_percent", thresholds.cpu_percent, "CPU"),
        ("memory_percent", thresholds.memory_percent, "memory"),
    ):
        value = sample.get(key)
        if value is not None and value > limit:
            breaches[key.split("_")[0]] = f"high {label} usage: {value:.1f} % > {limit:g} %"
    canary = sample.get("canary_seconds")
    if canary is not None and canary > thresholds.canary_seconds:
        breaches["canary"] = f"slow report generation: canary took {canary:.1f} s > {thresholds.canary_seconds:g} s"
    disk = sample.get("disk_free_fraction")
    if disk is not None and disk < thresholds.min_disk_free_fraction:
        breaches["disk"] = f"low disk: {disk:.1%} free < {thresholds.min_disk_free_fraction:.0%}"
    for row in job_stats.itertuples():
        if pd.notna(row.p95_s) and row.p95_s > thresholds.job_p95_seconds:
            breaches[f"job:{row.job_name}"] = (
                f"slow job {row.job_name}: p95 {row.p95_s:.0f} s > "
                f"{thresholds.job_p95_seconds:g} s over {row.n_runs} run(s)"
            )
    return breaches


def performance_alerts(
    sample: Mapping[str, float | None],
    job_stats: pd.DataFrame,
    thresholds: PerformanceThresholds = PerformanceThresholds(),
) -> list[str]:
    """One message per threshold crossed (see performance_breaches)."""
    return list(performance_breaches(sample, job_stats, thresholds).values())


def step_duration_stats(durations: pd.DataFrame) -> pd.DataFrame:
    """Per step key (rows: step_key, duration_s): n, p50_s, p95_s, slowest p95 first."""
    frame = durations.groupby("step_key")["duration_s"]
    return (
        pd.DataFrame({"n": frame.size(), "p50_s": frame.quantile(0.5), "p95_s": frame.quantile(0.95)})
        .reset_index()
        .sort_values("p95_s", ascending=False, ignore_index=True)
    )
