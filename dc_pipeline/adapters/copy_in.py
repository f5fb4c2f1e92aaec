"""CSV text for `COPY ... FROM STDIN (FORMAT csv, NULL '\\N')` from a DataFrame.

Arrow's CSV writer (C++, all columns at once) does the common frames: about 10x pandas' to_csv, which
spent most of a partition rewrite formatting object columns row by row. Floats are written in their
shortest exact form, missing values (None, NaN in a float64 column, NaT, <NA>) as \\N, strings always
quoted (so a text '\\N' or '' stays a text), a NaN that is a value of a nullable Float64 column as
'nan' (Postgres reads NaN in any case). Dates are written as YYYY-MM-DD when every value is a
midnight, timestamps with a zone in UTC with the offset +00. dict/list cells become JSON. A frame
Arrow cannot type (an object column of mixed Python types, say) goes through pandas' to_csv as before.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

NULL = "\\N"
# Rows formatted at a time by COPY in (whether a datetime column is written as dates is decided per slice).
CSV_ROWS = 200_000
_WRITE = pa_csv.WriteOptions(include_header=False, null_string=NULL, batch_size=65_536)


def csv_for_copy(frame: pd.DataFrame) -> bytes:
    """The rows of `frame` as CSV bytes (no header) for COPY with NULL '\\N'."""
    frame = _json_as_text(frame)
    try:
        return _arrow_csv(frame)
    except (pa.ArrowException, TypeError, ValueError):
        return _pandas_csv(frame).encode()


def _arrow_csv(frame: pd.DataFrame) -> bytes:
    arrays = []
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            arrays.append(_arrow_datetimes(series))
        else:
            arrays.append(pa.array(series, from_pandas=True))
    table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, _WRITE)
    return sink.getvalue().to_pybytes()


def utc_micros(series: pd.Series) -> tuple[np.ndarray, np.ndarray, bool]:
    """A datetime column as naive datetime64[us] (UTC wall time when zoned), where it is missing, whether zoned."""
    aware = getattr(series.dt, "tz", None) is not None
    values = (series.dt.tz_convert("UTC").dt.tz_localize(None) if aware else series).to_numpy(dtype="datetime64[us]")
    return values, np.isnat(values), aware


def holds_text(series: pd.Series) -> bool:
    """Whether a column holds only strings (or nothing): what a text column's binary COPY and hand-over take."""
    if isinstance(series.dtype, pd.StringDtype):
        return True
    return pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty")


def all_midnights(values: np.ndarray, missing: np.ndarray) -> bool:
    return bool(((values[~missing].astype("int64") % 86_400_000_000) == 0).all())


def _arrow_datetimes(series: pd.Series) -> pa.Array:
    """date32 when every value is a midnight (a period), else timestamps in microseconds (UTC when aware)."""
    values, missing, aware = utc_micros(series)
    if aware:
        # Arrow formats a zoned timestamp value by value through the zone database (~1.7 us a value, most of
        # a landing's CSV time): the naive UTC wall time as text with the offset appended is 20x faster.
        text = pa.array(values, mask=missing, type=pa.timestamp("us")).cast(pa.string())
        return pc.binary_join_element_wise(text, "+00", "")
    if all_midnights(values, missing):
        return pa.array(values.astype("datetime64[D]"), mask=missing, type=pa.date32())
    return pa.array(values, mask=missing, type=pa.timestamp("us"))


def _json_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    converted = {
        column: frame[column].map(lambda v: None if v is None else json.dumps(v, sort_keys=True, default=_json_default))
        for column in frame.columns
        if frame[column].dtype == object and _holds_json(frame[column])
    }
    return frame.assign(**converted) if converted else frame


def _pandas_csv(frame: pd.DataFrame) -> str:
    """pandas writes floats round-trip exact (inf as 'inf', which Postgres reads), missing values as
    \\N; datetimes are formatted by numpy (pandas' per-value formatting of timestamps is slow)."""
    dated = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    converted = {c: _datetime_strings(frame[c]) for c in dated}
    out = frame.assign(**converted) if converted else frame
    return out.to_csv(index=False, header=False, na_rep=NULL)


def _datetime_strings(series: pd.Series) -> np.ndarray:
    """ISO strings (dates as YYYY-MM-DD when every value is a midnight), None for NaT."""
    aware = getattr(series.dt, "tz", None) is not None
    values = (series.dt.tz_convert("UTC").dt.tz_localize(None) if aware else series).to_numpy(dtype="datetime64[us]")
    missing = np.isnat(values)
    midnight = not aware and bool(((values[~missing].astype("int64") % 86_400_000_000) == 0).all())
    text = np.datetime_as_string(values, unit="D" if midnight else "us").astype(object)
    if aware:
        text = text + "+00"
    text[missing] = None
    return text


def _holds_json(series: pd.Series) -> bool:
    first = series.first_valid_index()
    return first is not None and isinstance(series.loc[first], (dict, list))


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    return str(value)
