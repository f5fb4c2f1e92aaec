"""The generated time line: period starts and the deterministic load time of a period's rows."""

from __future__ import annotations

import pandas as pd


def period_index(start: str | pd.Timestamp, periods: int, grain: str) -> pd.DatetimeIndex:
    """The first days of `periods` months/quarters from the period containing `start`."""
    if grain not in ("month", "quarter"):
        raise ValueError(f"grain must be 'month' or 'quarter', got {grain!r}")
    freq = "M" if grain == "month" else "Q"
    first = pd.Timestamp(start).to_period(freq).start_time
    return pd.period_range(first, periods=periods, freq=freq).to_timestamp().astype("datetime64[ns]")


def loaded_at(periods: pd.DatetimeIndex | pd.Series, grain: str) -> pd.DatetimeIndex:
    """Deterministic load time of a period's rows: next period start + 2 days 06:00 UTC."""
    step = pd.DateOffset(months=1 if grain == "month" else 3)
    stamps = pd.DatetimeIndex(periods) + step + pd.Timedelta(days=2, hours=6)
    return stamps.tz_localize("UTC")
