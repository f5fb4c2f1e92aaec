"""Typed DataFrames from the CSV that `COPY ... TO STDOUT (FORMAT csv)` writes.

Postgres writes NULL as an empty field and a float or numeric not-a-number as the text `NaN`.
The two differ in meaning (a null outcome is "not reported", a NaN outcome is invalid data that
quality must quarantine), so a column holding a NaN is returned as a nullable Float64 column whose
NaN cells are values (not missing) and whose nulls are <NA>. Columns without NaN stay plain
float64, so the common case costs nothing extra. A value that cannot be read raises
`CsvValueError` naming the column, the value and its row.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pandas.arrays import FloatingArray

from dc_pipeline.adapters.copy_in import holds_text

_PANDAS_DTYPES = {
    "integer": "Int64",
    "bigint": "Int64",
    "smallint": "Int64",
    "double precision": "float64",
    "real": "float64",
    "numeric": "float64",
    "text": "object",
    "character": "object",
    "character varying": "object",
    "boolean": "object",
    "jsonb": "object",
    "json": "object",
}
POSTGRES_NAN = "NaN"


class CsvValueError(ValueError):
    """A value of the COPY output could not be read as its column's type."""


def pandas_dtypes(types: Mapping[str, str]) -> dict[str, Any]:
    return {c: _PANDAS_DTYPES[t] for c, t in types.items() if t in _PANDAS_DTYPES}


def frame_from_copy_csv(
    buffer: io.BytesIO, types: Mapping[str, str], parse_dates=(), first_row: int = 1
) -> pd.DataFrame:
    """The rows of `buffer` (CSV with a header) typed by `types` (column -> Postgres type name); an error names
    a row counting the first one of `buffer` as `first_row` (a piece of a longer output: copy_stream.py)."""
    dtypes = pandas_dtypes(types)
    try:
        frame = pd.read_csv(buffer, keep_default_na=False, na_values=[""], dtype=dtypes, low_memory=False)
    except ValueError:
        # The fast float parser refuses the text NaN: read float columns as text and convert one by one.
        buffer.seek(0)
        floats = [c for c, d in dtypes.items() if d == "float64"]
        text = {**dtypes, **dict.fromkeys(floats, object)}
        frame = pd.read_csv(buffer, keep_default_na=False, na_values=[""], dtype=text, low_memory=False)
        for column in floats:
            frame[column] = _floats_keeping_nan(frame[column], column, types[column], first_row)
    for column, pg_type in types.items():
        if pg_type == "date" or column in parse_dates:
            frame[column] = _converted(frame[column], column, pg_type, pd.to_datetime, first_row)
        elif pg_type.startswith("timestamp"):
            frame[column] = _converted(
                frame[column], column, pg_type, lambda s: pd.to_datetime(s, utc=True, format="ISO8601"), first_row
            )
        elif pg_type in ("jsonb", "json"):
            frame[column] = frame[column].map(
                lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else json.loads(v)
            )
        elif pg_type == "boolean":
            frame[column] = frame[column].map({"t": True, "f": False})
    return frame


def _floats_keeping_nan(text: pd.Series, column: str, pg_type: str, first_row: int) -> pd.Series:
    is_nan = (text == POSTGRES_NAN).to_numpy(dtype=bool)
    values = _converted(text.where(~is_nan), column, pg_type, lambda s: pd.to_numeric(s, errors="raise"), first_row)
    values = values.to_numpy(dtype="float64", na_value=np.nan)
    if not is_nan.any():
        return pd.Series(values, index=text.index, name=column)
    missing = text.isna().to_numpy(dtype=bool)
    return pd.Series(FloatingArray(values, missing), index=text.index, name=column)


def _converted(series: pd.Series, column: str, pg_type: str, convert, first_row: int) -> pd.Series:
    try:
        return convert(series)
    except (ValueError, TypeError, OverflowError) as exc:
        raise CsvValueError(f"column {column} ({pg_type}): {_first_bad_value(series, convert, first_row)}") from exc


def _first_bad_value(series: pd.Series, convert, first_row: int) -> str:
    for position, value in enumerate(series, start=first_row - 1):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        try:
            convert(pd.Series([value]))
        except (ValueError, TypeError, OverflowError):
            return f"value {value!r} at row {position + 1} cannot be read as this type"
    return "a value cannot be read as this type"


_INTEGER_TYPES = ("integer", "bigint", "smallint")


def typed_as_read(frame: pd.DataFrame, types: Mapping[str, str]) -> pd.DataFrame | None:
    """`frame` as `frame_from_copy_csv` returns it after a round trip through a table with these column types
    (column -> Postgres type, in the table's order), without the round trip; None when a column's round trip is
    not mirrored here (json, boolean, a nullable float, text holding other values, naive timestamps), so the
    caller reads the table instead."""
    columns = {}
    for column, pg_type in types.items():
        if column not in frame.columns:
            return None
        typed = _typed_column(frame[column], pg_type)
        if typed is None:
            return None
        columns[column] = typed
    return pd.DataFrame(columns).reset_index(drop=True)


def _typed_column(series: pd.Series, pg_type: str) -> pd.Series | None:
    dtype = series.dtype
    if pg_type in _INTEGER_TYPES:
        if dtype == np.float64:  # integers as floats once a NaN joined them: written as integers when whole
            whole = series.dropna()
            return series.astype("Int64") if bool((whole % 1 == 0).all()) else None
        return series.astype("Int64") if pd.api.types.is_integer_dtype(dtype) else None
    if pg_type == "double precision":
        return series if dtype == np.float64 else None
    if pg_type in ("text", "character varying"):
        if not holds_text(series):
            return None
        values = series.to_numpy(dtype=object, na_value=np.nan, copy=True)
        values[values == ""] = np.nan  # COPY's CSV writes '' and null alike as an empty field to the reader
        return pd.Series(values, index=series.index, name=series.name, dtype=object)
    if not pd.api.types.is_datetime64_any_dtype(dtype):
        return None
    aware = getattr(series.dt, "tz", None) is not None
    if pg_type == "date" and not aware:
        day = series.dt.normalize()
        return series.astype("datetime64[us]") if bool((day.isna() | (day == series)).all()) else None
    if pg_type == "timestamp with time zone" and aware:
        return series.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return None
