"""What the rules need to know about the projects being assessed, one entry per project of the run:
grain, covered periods, member brands, as_of. Rows carry `p`, their project's position in the run."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.keys import PairIndex
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


def describe_period(ts) -> str:
    return "none" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def months_between(first: pd.Timestamp, last: pd.Timestamp) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


@dataclass(frozen=True)
class ProjectContext:
    project_id: int | None
    grain: str
    grain_months: int
    status: str
    start: pd.Timestamp | None  # first covered period (None when start_date is null)
    end: pd.Timestamp  # last period a row may carry (V3)
    expected_last: pd.Timestamp  # last period that should have data (C1, T1, W2)

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def named(self) -> str:
        """' <id>' for messages, or '' when the project has no id."""
        return f" {self.project_id}" if self.project_id is not None else ""

    def n_expected_periods(self, fallback_start) -> int:
        """Covered periods that should hold data: [start, expected_last] at the project's grain."""
        start = self.start if self.start is not None else fallback_start
        if start is None or pd.isna(start) or start > self.expected_last:
            return 0
        return months_between(pd.Timestamp(start), self.expected_last) // self.grain_months + 1


def project_context(project, as_of: pd.Timestamp) -> ProjectContext:
    project = dict(project)
    grain = str(project.get("period_grain") or "month")
    grain_months = _GRAIN_MONTHS.get(grain, 1)
    status = str(project.get("status") or "active")
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
    project_id = project.get("project_id")
    project_id = None if project_id is None or pd.isna(project_id) else int(project_id)
    return ProjectContext(project_id, grain, grain_months, status, start, end, expected_last)


def _stamps(values) -> np.ndarray:
    return np.array([np.datetime64("NaT") if v is None else np.datetime64(v, "ns") for v in values], "datetime64[ns]")


@dataclass(frozen=True)
class RunContext:
    """Per-project facts as arrays indexed by `p`, and the member brands as (p, brand) pairs."""

    projects: list[ProjectContext]
    as_of: pd.Timestamp
    config: DqConfig
    members: PairIndex  # (p, member brand id), sorted; brand ids float64 so row brands compare exactly

    def __len__(self) -> int:
        return len(self.projects)

    def array(self, name: str, dtype=object) -> np.ndarray:
        return np.array([getattr(c, name) for c in self.projects], dtype=dtype)

    @cached_property
    def grain_months(self) -> np.ndarray:
        return self.array("grain_months", "int64")

    @cached_property
    def active(self) -> np.ndarray:
        return self.array("is_active", bool)

    @cached_property
    def start(self) -> np.ndarray:
        return _stamps(c.start for c in self.projects)

    @cached_property
    def end(self) -> np.ndarray:
        return _stamps(c.end for c in self.projects)

    @cached_property
    def expected_last(self) -> np.ndarray:
        return _stamps(c.expected_last for c in self.projects)

    def n_members(self) -> np.ndarray:
        return np.bincount(self.members.p, minlength=len(self))


def build_run_context(projects: list, member_p: np.ndarray, member_brand, config: DqConfig, as_of) -> RunContext:
    """`projects`: one mapping per project (project_id, period_grain, start_date, end_date, status);
    member_p / member_brand: the run's project_brands rows, by project position."""
    as_of = to_naive_utc(as_of)
    brand = pd.to_numeric(pd.Series(member_brand, dtype=object), errors="coerce").to_numpy(dtype="float64")
    known = ~np.isnan(brand)
    # Member ids are whole numbers: a fractional id is truncated, as int64 would.
    brand = np.trunc(brand[known])
    members = PairIndex(np.asarray(member_p, dtype="int64")[known], brand, n_projects=len(projects))
    return RunContext([project_context(p, as_of) for p in projects], as_of, config, members)
