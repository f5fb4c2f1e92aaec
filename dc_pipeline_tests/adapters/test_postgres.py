import math

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.adapters import postgres


def test_copy_roundtrip_keeps_values_types_and_nulls(fresh_db):
    frame = pd.DataFrame(
        {
            "project_id": [1, 1, 2],
            "value": [0.1 + 0.2, np.nan, 1e-300],
            "name": ["a,b", None, 'quote"d'],
            "period": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "payload": [{"k": [1, 2]}, None, {"x": "y"}],
            "flag": [True, False, True],
            "at": pd.to_datetime(
                ["2024-01-01 10:30:00.123456", None, "2024-03-01 00:00:00"], format="ISO8601"
            ).tz_localize("UTC"),
        }
    )
    with postgres.connect(fresh_db) as conn:
        postgres.replace_rows(conn, "dc_core.roundtrip", frame, {"project_id": [1, 2]})
        conn.commit()
        back = postgres.read_frame(conn, "SELECT * FROM dc_core.roundtrip ORDER BY project_id, period")
    assert back["value"].iloc[0] == 0.1 + 0.2  # exact float round trip
    assert math.isnan(back["value"].iloc[1])
    assert back["value"].iloc[2] == 1e-300
    assert back["name"].tolist()[0] == "a,b" and pd.isna(back["name"].iloc[1]) and back["name"].iloc[2] == 'quote"d'
    assert back["period"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert back["payload"].iloc[0] == {"k": [1, 2]} and back["payload"].iloc[1] is None
    assert back["flag"].tolist() == [True, False, True]
    assert back["at"].iloc[0] == pd.Timestamp("2024-01-01 10:30:00.123456", tz="UTC") and pd.isna(back["at"].iloc[1])


def test_replace_rows_rewrites_only_the_partition_and_is_idempotent(fresh_db):
    first = pd.DataFrame({"project_id": [1, 1, 2], "score": [10.0, 20.0, 30.0]})
    with postgres.connect(fresh_db) as conn:
        postgres.replace_rows(conn, "dc_core.scores", first, {"project_id": [1, 2]})
        conn.commit()
        again = pd.DataFrame({"project_id": [1], "score": [99.0]})
        for _ in range(2):  # a rerun replaces, never duplicates
            postgres.replace_rows(conn, "dc_core.scores", again, {"project_id": [1]})
            conn.commit()
        rows = conn.execute("SELECT project_id, score FROM dc_core.scores ORDER BY 1, 2").fetchall()
    assert rows == [(1, 99.0), (2, 30.0)]


def test_failed_rewrite_leaves_previous_rows(fresh_db):
    with postgres.connect(fresh_db) as conn:
        postgres.replace_rows(
            conn, "dc_core.scores", pd.DataFrame({"project_id": [1], "score": [1.0]}), {"project_id": [1]}
        )
        conn.commit()
        bad = pd.DataFrame({"project_id": [1], "score": ["not a number"]})
        with pytest.raises(Exception):  # noqa: B017 (any database error must roll back)
            with conn.transaction():
                postgres.replace_rows(conn, "dc_core.scores", bad, {"project_id": [1]})
        assert conn.execute("SELECT score FROM dc_core.scores").fetchall() == [(1.0,)]


def test_connect_error_names_cause_and_hides_password():
    with pytest.raises(postgres.DatabaseError) as info:
        postgres.connect("postgresql://dc:s3cr3t-pass@127.0.0.1:1/digi_cadence", connect_timeout=2)
    message = str(info.value)
    assert "s3cr3t-pass" not in message
    assert "127.0.0.1:1" in message and "DATABASE_URL" in message


def test_empty_frame_creates_no_table_but_clears_the_partition(fresh_db):
    with postgres.connect(fresh_db) as conn:
        empty = pd.DataFrame({"project_id": pd.Series([], dtype=float), "series": pd.Series([], dtype=float)})
        assert postgres.replace_rows(conn, "dc_core.forecasts", empty, {"project_id": [1]}) == 0
        assert not postgres.table_exists(conn, "dc_core.forecasts")
        rows = pd.DataFrame({"project_id": [1, 2], "series": ["dc", "revenue"]})
        postgres.replace_rows(conn, "dc_core.forecasts", rows, {"project_id": [1, 2]})
        postgres.replace_rows(conn, "dc_core.forecasts", empty, {"project_id": [1]})
        conn.commit()
        assert conn.execute("SELECT project_id, series FROM dc_core.forecasts").fetchall() == [(2, "revenue")]


def test_all_null_column_takes_its_type_from_the_first_values(fresh_db):
    with postgres.connect(fresh_db) as conn:
        first = pd.DataFrame({"project_id": [1], "method": [np.nan]})  # no forecast yet: type guessed
        postgres.replace_rows(conn, "dc_core.summaries", first, {"project_id": [1]})
        assert "method" in postgres.existing_columns(conn, "dc_core.summaries")  # readers see the column
        later = pd.DataFrame({"project_id": [2], "method": ["ets(trend=add)"]})
        postgres.replace_rows(conn, "dc_core.summaries", later, {"project_id": [2]})
        conn.commit()
        rows = conn.execute("SELECT project_id, method FROM dc_core.summaries ORDER BY 1").fetchall()
    assert rows == [(1, None), (2, "ets(trend=add)")]


def test_integer_column_accepts_floats_that_a_nan_introduced(fresh_db):
    with postgres.connect(fresh_db) as conn:
        postgres.replace_rows(
            conn, "dc_core.fits", pd.DataFrame({"project_id": [1], "n_folds": [5]}), {"project_id": [1]}
        )
        later = pd.DataFrame({"project_id": [2, 2], "n_folds": [5.0, np.nan]})
        postgres.replace_rows(conn, "dc_core.fits", later, {"project_id": [2]})
        conn.commit()
        assert conn.execute("SELECT project_id, n_folds FROM dc_core.fits ORDER BY 1, 2").fetchall() == [
            (1, 5),
            (2, 5),
            (2, None),
        ]
    # the caller's frame is not changed by the rewrite (no run columns added, its floats stay floats)
    assert list(later.columns) == ["project_id", "n_folds"] and later["n_folds"].dtype == np.float64


def test_postgres_nan_reads_as_a_float_nan_distinct_from_null_and_survives_a_rewrite(fresh_db):
    with postgres.connect(fresh_db) as conn:
        conn.execute("CREATE TABLE public.src (id int, f float8, n numeric(18, 2))")
        conn.execute(
            "INSERT INTO public.src VALUES (1, 'NaN', 'NaN'), (2, NULL, NULL), (3, 1.5, 2.25), (4, 'Infinity', 3)"
        )
        frame = postgres.read_frame(conn, "SELECT * FROM public.src ORDER BY id")
        assert frame["f"].isna().tolist() == [False, True, False, False]  # NaN is a value, NULL is missing
        assert math.isnan(frame["f"].iloc[0]) and math.isnan(frame["n"].iloc[0]) and frame["f"].iloc[3] == math.inf
        assert frame["n"].iloc[2] == 2.25
        postgres.replace_rows(conn, "dc_staging.landed", frame, {"id": [1, 2, 3, 4]})
        stored = conn.execute("SELECT id, f::text, n::text FROM dc_staging.landed ORDER BY id").fetchall()
    assert stored == [(1, "NaN", "NaN"), (2, None, None), (3, "1.5", "2.25"), (4, "Infinity", "3")]


def test_a_value_that_cannot_be_typed_names_column_value_and_row(fresh_db):
    from dc_pipeline.adapters.copy_csv import CsvValueError

    with postgres.connect(fresh_db) as conn:
        conn.execute("CREATE TABLE public.src (id int, period date)")
        conn.execute("INSERT INTO public.src VALUES (1, '2024-01-01'), (2, 'infinity')")
        with pytest.raises(CsvValueError) as info:
            postgres.read_frame(conn, "SELECT * FROM public.src ORDER BY id")
    assert str(info.value) == "column period (date): value 'infinity' at row 2 cannot be read as this type"


def test_two_writers_of_a_new_table_at_once_both_succeed(fresh_db):
    """The demo's two workers write the first rows of a table at the same time: without the DDL lock the second
    `CREATE TABLE IF NOT EXISTS` fails on Postgres' pg_type index once the first commits."""
    import threading

    first = postgres.connect(fresh_db)
    postgres.replace_rows(first, "dc_new.pulls", pd.DataFrame({"project_id": [1], "v": [1.0]}), {"project_id": [1]})
    outcome: dict = {}

    def second_writer() -> None:
        try:
            with postgres.connect(fresh_db) as conn:
                frame = pd.DataFrame({"project_id": [2], "v": [2.0]})
                postgres.replace_rows(conn, "dc_new.pulls", frame, {"project_id": [2]})
                conn.commit()
            outcome["ok"] = True
        except Exception as exc:  # noqa: BLE001 (the assertion names it)
            outcome["error"] = exc

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second writer must wait for the first one's DDL"
    first.commit()
    first.close()
    thread.join(timeout=20)
    assert outcome == {"ok": True}, outcome
    with postgres.connect(fresh_db) as conn:
        assert conn.execute("SELECT project_id, v FROM dc_new.pulls ORDER BY 1").fetchall() == [(1, 1.0), (2, 2.0)]


def test_a_partition_rewrite_indexes_the_key_columns_also_of_an_existing_table(fresh_db):
    """Without an index on project_id, every partition DELETE and read scanned the whole table."""
    with postgres.connect(fresh_db) as conn:
        conn.execute("CREATE SCHEMA dc_core")
        conn.execute("CREATE TABLE dc_core.older (project_id bigint, brand_id bigint, score double precision)")
        frame = pd.DataFrame({"brand_id": [3, 4], "project_id": [1, 1], "score": [50.0, 60.0]})
        postgres.replace_rows(conn, "dc_core.older", frame, {"brand_id": [3, 4], "project_id": [1]})
        postgres.replace_rows(conn, "dc_core.newer", frame, {"project_id": [1]})
        conn.commit()
        indexes = dict(
            conn.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'dc_core'").fetchall()
        )
        assert set(indexes) == {"older", "newer"}
        assert indexes["older"].endswith("(project_id, brand_id)")  # project_id first: reads filter by project
        assert indexes["newer"].endswith("(project_id)")
        conn.execute("SET enable_seqscan = off")
        plan = " ".join(r[0] for r in conn.execute("EXPLAIN DELETE FROM dc_core.newer WHERE project_id = ANY('{1}')"))
        assert "newer_project_id_key" in plan


def _create_at(url: str, start: float) -> None:
    import time

    from dc_pipeline.adapters import ops_log

    time.sleep(max(0.0, start - time.time()))  # every worker creates at the same instant
    with postgres.connect(url) as conn:
        ops_log.ensure(conn, "dc_ops.maintenance_log")
        conn.commit()


def test_runs_creating_the_same_table_at_once_all_succeed(fresh_db):
    """The demo's two API runs both created the API cache table and one failed (UniqueViolation on pg_type), which
    cost it a 60 s retry: creation runs under the table's DDL lock."""
    import multiprocessing
    import time

    start = time.time() + 1.0
    workers = [multiprocessing.get_context("fork").Process(target=_create_at, args=(fresh_db, start)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
