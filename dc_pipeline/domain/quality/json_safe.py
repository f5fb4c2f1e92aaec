"""JSON-safe copies of rows for `row_key` / `row_payload` (NaN and inf become strings)."""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd


def _scalar(value):
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, str):
        return value
    return str(value)


def _column(series: pd.Series) -> list:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return [None if pd.isna(v) else v.isoformat() for v in series]
    if pd.api.types.is_float_dtype(series.dtype) and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
        values = series.to_numpy()
        out = values.astype(object)
        out[np.isnan(values)] = "NaN"
        out[np.isposinf(values)] = "inf"
        out[np.isneginf(values)] = "-inf"
        return out.tolist()
    return [_scalar(v) for v in series.astype(object)]


def json_safe_records(frame: pd.DataFrame) -> list[dict]:
    """Rows of `frame` as plain-Python dicts (column order kept)."""
    if frame.empty:
        return []
    columns = {str(col): _column(frame[col]) for col in frame.columns}
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]
