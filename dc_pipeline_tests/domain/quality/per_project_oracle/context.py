"""What the rules need to know about the project being assessed: grain, covered periods, members, as_of."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.settings import DqConfig

_GRAIN_MONTHS = {"month": 1, "quarter": 3}


def to_naive_utc(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return ts
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def period_floor(ts: pd.Timestamp, grain_months: int) -> pd.Timestamp:
    month = ((ts.month - 1) // grain_months) * grain_months + 1
    return pd.Timestamp(year=ts.year, month=month, day=1)


def shift_periods(ts: pd.Timestamp, grain_months: int, n: int) -> pd.Timestamp:
    return ts + pd.DateOffset(months=grain_months * n)


def as_datetime(values) -> pd.Series:
    """Coerce dates to naive datetime64 (UTC); unparseable values become NaT."""
    series = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce", utc=True)
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.astype("datetime64[ns]")


@dataclass(frozen=True)
class ProjectContext:
    project_id: int | None
    grain: str
    grain_months: int
    status: str
    as_of: pd.Timestamp
    start: pd.Timestamp | None  # first covered period (None when start_date is null)
    end: pd.Timestamp  # last period a row may carry (V3)
    expected_last: pd.Timestamp  # last period that should have data (C1, T1, W2)
    members: np.ndarray  # member brand ids (int64)
    config: DqConfig

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def expected_periods(self, fallback_start: pd.Timestamp | None) -> pd.DatetimeIndex:
        """Covered periods that should hold data: [start, expected_last] at the project's grain."""
        start = self.start if self.start is not None else fallback_start
        if start is None or pd.isna(start) or start > self.expected_last:
            return pd.DatetimeIndex([], dtype="datetime64[ns]")
        freq = "MS" if self.grain_months == 1 else "QS-JAN"
        return pd.date_range(start, self.expected_last, freq=freq).astype("datetime64[ns]")

    def describe_period(self, ts) -> str:
        return "none" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def build_context(project, members: pd.DataFrame, config: DqConfig, as_of) -> ProjectContext:
    project = dict(project)
    grain = str(project.get("period_grain") or "month")
    grain_months = _GRAIN_MONTHS.get(grain, 1)
    status = str(project.get("status") or "active")
    as_of = to_naive_utc(as_of)
    as_of_period = period_floor(as_of, grain_months)

    start_raw = to_naive_utc(project.get("start_date")) if project.get("start_date") is not None else pd.NaT
    start = None if pd.isna(start_raw) else period_floor(start_raw, grain_months)
    end_raw = to_naive_utc(project.get("end_date")) if project.get("end_date") is not None else pd.NaT
    end = as_of_period if pd.isna(end_raw) else period_floor(end_raw, grain_months)
    if status == "active":
        # Data for the running period are not due yet: expect up to the previous month or quarter.
        expected_last = min(end, shift_periods(as_of_period, grain_months, -1))
    else:
        expected_last = end

    member_ids = pd.to_numeric(members["brand_id"], errors="coerce") if "brand_id" in members else pd.Series([])
    member_ids = np.unique(member_ids.dropna().astype("int64").to_numpy())
    project_id = project.get("project_id")
    project_id = None if project_id is None or pd.isna(project_id) else int(project_id)
    return ProjectContext(project_id, grain, grain_months, status, as_of, start, end, expected_last, member_ids, config)
