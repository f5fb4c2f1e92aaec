"""Binary COPY stores exactly what the CSV COPY stores, for every column type the pipeline tables hold, and a
frame with a column it does not cover is written as CSV."""

import numpy as np
import pandas as pd
import pytest
from pandas.arrays import FloatingArray
from psycopg import sql

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.copy_binary import binary_for_copy
from dc_pipeline.adapters.copy_in import csv_for_copy


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "project_id": np.array([1, 1, 2, 2, 3]),
            "small": np.array([1, -2, 3, 4, 5], dtype="int16"),
            "value": [0.1 + 0.2, np.nan, 1e-300, -np.inf, -0.0],
            "whole": np.array([1, 2**53 + 1, -3, 0, 7]),  # integers into a double precision column
            "count": pd.array([3, None, 5, 2**31 - 1, -1], dtype="Int64"),
            "nan_value": FloatingArray(
                np.array([np.nan, 1.5, 0.0, 2.0, 3.0]), np.array([False, False, True, False, False])
            ),
            "name": ["a,b", None, 'quote"d', "line\nbreak", ""],
            "label": pd.array(["ü", None, "\\N", "x", "tab\there"], dtype="str"),
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", None, "2024-03-01", "1999-12-31"]),
            "moment": pd.to_datetime(
                ["2024-01-01 10:30:00.123456789", None, "2024-03-01", "2024-03-02 01:00", "1970-01-01"],
                format="ISO8601",
            ),
            "at": pd.to_datetime(
                ["2024-01-01 10:30:00.123456", None, "2024-03-01", "2024-03-02", "2024-06-30 23:59:59.999999"],
                format="ISO8601",
            ).tz_localize("Asia/Kolkata"),
            "aware_wall": pd.to_datetime(
                ["2024-01-01 10:30", None, "2024-03-01 00:00", "2024-03-02 00:00", "2024-03-03 00:00"]
            ).tz_localize("UTC"),
        }
    )


TYPES = {
    "project_id": "bigint",
    "small": "smallint",
    "value": "double precision",
    "whole": "double precision",
    "count": "integer",
    "nan_value": "double precision",
    "name": "text",
    "label": "text",
    "period": "date",
    "moment": "timestamp without time zone",
    "at": "timestamp with time zone",
    "aware_wall": "timestamp without time zone",
}


def _create(conn, table: str) -> None:
    postgres.init_pipeline_schemas(conn)
    columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in TYPES.items())
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier("dc_core", table), columns))


def _stored(conn, table: str) -> list[tuple]:
    query = sql.SQL("SELECT to_jsonb(t)::text FROM {} t ORDER BY project_id, name NULLS FIRST")
    return conn.execute(query.format(sql.Identifier("dc_core", table))).fetchall()


def test_binary_copy_stores_what_csv_stores(fresh_db):
    frame = _frame()
    assert binary_for_copy(frame, TYPES) is not None
    with postgres.connect(fresh_db) as conn:
        conn.execute("SET TimeZone = 'America/New_York'")  # neither path may depend on the session's zone
        _create(conn, "by_csv")
        _create(conn, "by_binary")
        target = sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(sql.Identifier("dc_core", "by_csv"))
        with conn.cursor() as cur, cur.copy(target) as copy:
            copy.write(csv_for_copy(frame))
        assert postgres.copy_frame(conn, "dc_core.by_binary", frame) == 5
        conn.execute("SET TimeZone = 'UTC'")
        by_csv, by_binary = _stored(conn, "by_csv"), _stored(conn, "by_binary")
    assert by_binary == by_csv
    assert '"nan_value": "NaN"' in by_binary[1][0] and '"value": null' in by_binary[0][0]


def test_binary_copy_in_batches_equals_one_batch(fresh_db):
    frame = pd.concat([_frame()] * 3, ignore_index=True)
    assert b"".join(binary_for_copy(frame, TYPES, rows=4)) != b""
    with postgres.connect(fresh_db) as conn:
        _create(conn, "batched")
        with conn.cursor() as cur, cur.copy("COPY dc_core.batched FROM STDIN WITH (FORMAT binary)") as copy:
            for data in binary_for_copy(frame, TYPES, rows=4):
                copy.write(data)
        assert conn.execute("SELECT count(*), count(name), sum(count) FROM dc_core.batched").fetchone() == (
            15,
            12,
            3 * (3 + 5 + 2**31 - 1 - 1),
        )


@pytest.mark.parametrize(
    ("column", "values", "pg_type"),
    [
        ("payload", [{"k": 1}, None, {"x": "y"}, [1], None], "jsonb"),
        ("flag", [True, False, True, None, False], "boolean"),
        ("mixed", ["a", 1, "b", "c", "d"], "text"),
        ("fraction", [0.5, 1.0, 2.0, 3.0, 4.0], "bigint"),  # a real fraction must reach COPY and fail there
        ("naive", pd.to_datetime(["2024-01-01"] * 5), "timestamp with time zone"),  # the session's zone decides
        ("not_midnight", pd.to_datetime(["2024-01-01 10:00"] * 5), "date"),
        ("float32", np.array([0.1] * 5, dtype="float32"), "double precision"),
    ],
)
def test_an_uncovered_column_sends_the_frame_through_csv(column, values, pg_type):
    frame = _frame().assign(**{column: values})
    assert binary_for_copy(frame, {**TYPES, column: pg_type}) is None
