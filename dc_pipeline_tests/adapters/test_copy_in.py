"""Arrow's CSV for COPY stores exactly what pandas' CSV stored, for every column type the pipeline writes."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.arrays import FloatingArray
from psycopg import sql

from dc_pipeline.adapters import copy_in, postgres


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": [1, 1, 2, 2],
            "value": [0.1 + 0.2, np.nan, 1e-300, -np.inf],
            "count": pd.array([3, None, 5, 2**40], dtype="Int64"),
            "nan_value": FloatingArray(np.array([np.nan, 1.5, 0.0, 2.0]), np.array([False, False, True, False])),
            "name": ["a,b", None, 'quote"d', "line\nbreak"],
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01"]),
            "moment": pd.to_datetime(
                ["2024-01-01 10:30:00.123456", None, "2024-03-01", "2024-03-02 01:00"], format="ISO8601"
            ),
            "at": pd.to_datetime(
                ["2024-01-01 10:30:00.123456", None, "2024-03-01", "2024-03-02"], format="ISO8601"
            ).tz_localize("UTC"),
            "payload": [{"k": [1, 2]}, None, {"x": "y"}, [np.int64(1), 2.5]],
            "flag": [True, False, True, None],
        }
    )


def _stored(conn, table: str, csv: bytes) -> list[tuple]:
    target = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(sql.Identifier("dc_core", table))
    with conn.cursor() as cur, cur.copy(target) as copy:
        copy.write(csv)
    query = sql.SQL("SELECT to_jsonb(t)::text FROM {} t ORDER BY project_id, name NULLS FIRST")
    return conn.execute(query.format(sql.Identifier("dc_core", table))).fetchall()


def test_arrow_csv_stores_the_same_rows_as_pandas_csv(fresh_db):
    frame = _frame()
    with postgres.connect(fresh_db) as conn:
        for table in ("by_arrow", "by_pandas"):
            postgres.ensure_table(conn, f"dc_core.{table}", frame, {"project_id": "bigint"})
        as_text = copy_in._json_as_text(frame)
        by_arrow = _stored(conn, "by_arrow", copy_in._arrow_csv(as_text))
        by_pandas = _stored(conn, "by_pandas", copy_in._pandas_csv(as_text).encode())
        nan_cell = conn.execute("SELECT nan_value::text FROM dc_core.by_arrow WHERE name = 'a,b'").fetchone()[0]
    assert by_arrow == by_pandas and len(by_arrow) == 4
    assert nan_cell == "NaN"  # a NaN value of a nullable float column stays a value, not a null


def test_texts_that_look_like_null_stay_texts(fresh_db):
    frame = pd.DataFrame({"project_id": [1, 1, 1], "name": ["\\N", "", None]})
    with postgres.connect(fresh_db) as conn:
        postgres.replace_rows(conn, "dc_core.null_like", frame, {"project_id": [1]})
        stored = conn.execute("SELECT name FROM dc_core.null_like ORDER BY name NULLS LAST").fetchall()
    assert stored == [("",), ("\\N",), (None,)]


def test_a_column_arrow_cannot_type_goes_through_pandas():
    frame = pd.DataFrame({"project_id": [1, 1], "mixed": [1, "two"], "at": pd.to_datetime(["2024-01-01", None])})
    with pytest.raises(pa.ArrowException):
        copy_in._arrow_csv(frame)
    assert copy_in.csv_for_copy(frame) == b"1,1,2024-01-01\n1,two,\\N\n"
