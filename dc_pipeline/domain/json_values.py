"""Plain JSON values from pandas/numpy ones, with one rule for every stored or rendered document.

- numpy scalars become Python numbers, dict keys strings, tuples lists;
- a missing value (None, NaN, NA, NaT) becomes null; a non-finite float becomes null too, unless the caller
  keeps it as evidence (`non_finite="text"`: "NaN", "inf", "-inf"; the quarantine does, so a row rejected for
  a NaN still shows it);
- a timestamp at midnight without a time zone is a date ("2024-01-01"); any other timestamp keeps its time.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

NonFinite = Literal["null", "text"]


def _float(value: float, non_finite: NonFinite) -> float | str | None:
    if math.isfinite(value):
        return value
    if non_finite == "null":
        return None
    return "NaN" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def timestamp_text(value: Any) -> str | None:
    """ISO text of a date or timestamp: the date alone at naive midnight, else the full timestamp."""
    if value is None or pd.isna(value):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None and stamp == stamp.normalize():
        return stamp.date().isoformat()
    return stamp.isoformat()


def to_jsonable(value: Any, non_finite: NonFinite = "null") -> Any:
    """`value` (recursively) in plain JSON types."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, non_finite) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, non_finite) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(float(value), non_finite)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, datetime, date, np.datetime64)):
        return timestamp_text(value)
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist(), non_finite)
    return value if isinstance(value, str) else str(value)


def _column(series: pd.Series, non_finite: NonFinite) -> list:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in series]
    if pd.api.types.is_float_dtype(series.dtype) and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        return [_float(v, non_finite) for v in series.to_numpy().tolist()]
    return [to_jsonable(v, non_finite) if v is not None else None for v in series.astype(object)]


def frame_records(frame: pd.DataFrame, non_finite: NonFinite = "null") -> list[dict]:
    """Rows of `frame` as plain JSON dicts (column order kept; datetime columns keep their time)."""
    if frame.empty:
        return []
    columns = {str(col): _column(frame[col], non_finite) for col in frame.columns}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def json_columns(frame: pd.DataFrame, columns: list[str], empty: Any = None) -> pd.DataFrame:
    """Make the jsonb columns of a frame valid JSON (Postgres rejects NaN); a missing cell becomes `empty`."""
    for column in columns:
        frame[column] = [
            to_jsonable(v)
            if isinstance(v, (dict, list, tuple))
            else (to_jsonable(empty) if empty is not None else None)
            for v in frame[column]
        ]
    return frame
