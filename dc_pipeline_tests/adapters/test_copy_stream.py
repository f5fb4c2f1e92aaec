"""The COPY output parsed piece by piece as it arrives is the frame the whole text parsed at once gives: same
values, dtypes and nulls, for awkward values cut at every kind of place, and errors name the same row."""

import io

import pandas as pd
import pytest

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.copy_csv import CsvValueError, frame_from_copy_csv
from dc_pipeline.adapters.copy_stream import frame_from_copy_stream, streamable

COLUMNS = (
    "id bigint, small smallint, n integer, big bigint, value double precision, ratio real, amount numeric, "
    "name text, code varchar(8), flag boolean, payload jsonb, period date, at timestamptz, naive timestamp"
)
# Rows 1-6 are awkward, 7-40 plain, 41-60 NULL in every column but id (a piece of nulls only, after values).
ROWS = """
(1, -32768, 2147483647, 9223372036854775807, 0.1 + 0.2, 1.5, 12345678901234.5678, 'a,b', 'x"y', true,
 '{"k": [1, 2], "s": "é,\\"q\\"\\n"}', '2024-01-01', '2024-01-01 10:30:00.123456+05:30', '2024-01-01 10:30:00.5'),
(2, NULL, NULL, -9223372036854775808, 'NaN', 'NaN', 'NaN', E'line\\nbreak, "quoted"\\n', '', false,
 NULL, NULL, '1999-12-31 23:59:59.999999-08', NULL),
(3, 7, 0, 2, 1e-300, NULL, NULL, '', E'\\\\N', NULL, '[]', '2000-02-29', NULL, '1970-01-01 00:00:00'),
(4, 1, 1, 1, '-Infinity', 'Infinity', 0, 'ü ∑ 漢字 😀', 'NaN', true, '{"emoji": "😀"}', '2024-03-01',
 '2024-06-30 23:59:59.999999+00', '2024-03-02 01:00'),
(5, 2, 2, 2, -0.0, 2.25, NULL, E'"\\n"', ',', false, 'null', '1900-01-01', '2024-01-01 00:00:00+14', NULL),
(6, 3, 3, 3, NULL, NULL, NULL, E'tab\\there\\r\\n', '""', NULL, NULL, '2024-12-31', '2024-01-01 00:00:00-12', NULL)
"""


def _load(conn) -> None:
    conn.execute(f"CREATE TABLE public.awkward ({COLUMNS})")
    conn.execute(f"INSERT INTO public.awkward VALUES {ROWS}")
    conn.execute(
        "INSERT INTO public.awkward SELECT g, g, g * 1000, g::bigint * 4000000000, g / 3.0, g, g, "
        "'plain ' || g, 'c' || g, g % 2 = 0, jsonb_build_object('g', g), date '2020-01-01' + g, "
        "timestamptz '2020-01-01 00:00+00' + g * interval '1 hour', timestamp '2020-01-01' + g * interval '1 s' "
        "FROM generate_series(7, 40) g"
    )
    conn.execute("INSERT INTO public.awkward (id) SELECT generate_series(41, 60)")


def _chunks(conn, query: str) -> tuple[list[bytes], dict]:
    types = postgres._column_types(conn.cursor(), postgres.sql.SQL(query))
    with conn.cursor() as cur, cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
        return [bytes(c) for c in copy], types


def _whole_and_chunks(conn, query: str) -> tuple[pd.DataFrame, list[bytes], dict]:
    chunks, types = _chunks(conn, query)
    return frame_from_copy_csv(io.BytesIO(b"".join(chunks)), types), chunks, types


@pytest.mark.parametrize("piece_bytes", [1, 37, 200, 1000, 1 << 20])
def test_streamed_parse_equals_the_whole_text_parse(fresh_db, piece_bytes):
    with postgres.connect(fresh_db) as conn:
        _load(conn)
        whole, chunks, types = _whole_and_chunks(conn, "SELECT * FROM public.awkward ORDER BY id")
        assert streamable(types)
        text = b"".join(chunks)
        # fed in the server's chunks and in bytes of 13 (cuts inside quoted values, escapes and multibyte text)
        for feed in (chunks, [text[i : i + 13] for i in range(0, len(text), 13)]):
            streamed = frame_from_copy_stream(iter(feed), types, piece_bytes=piece_bytes)
            pd.testing.assert_frame_equal(streamed, whole, check_exact=True)
        assert whole["name"].iloc[1] == 'line\nbreak, "quoted"\n' and pd.isna(whole["ratio"].iloc[2])
        assert str(whole["value"].dtype) == "Float64" and str(whole["at"].dtype) == "datetime64[us, UTC]"
        # and read_frame, which streams, returns it too
        pd.testing.assert_frame_equal(
            postgres.read_frame(conn, "SELECT * FROM public.awkward ORDER BY id"), whole, check_exact=True
        )


@pytest.mark.parametrize(
    "query", ["SELECT * FROM public.awkward WHERE id > 40", "SELECT * FROM public.awkward LIMIT 0"]
)
def test_only_nulls_and_no_rows_read_as_the_whole_text_does(fresh_db, query):
    with postgres.connect(fresh_db) as conn:
        _load(conn)
        whole, chunks, types = _whole_and_chunks(conn, query)
        pd.testing.assert_frame_equal(frame_from_copy_stream(iter(chunks), types, piece_bytes=50), whole)
        pd.testing.assert_frame_equal(frame_from_copy_stream(iter([]), types), pd.DataFrame(columns=list(types)))


def test_a_bad_value_in_a_later_piece_names_its_row_in_the_whole_output(fresh_db):
    with postgres.connect(fresh_db) as conn:
        conn.execute("CREATE TABLE public.src (id int, period date)")
        conn.execute("INSERT INTO public.src SELECT g, date '2024-01-01' + g FROM generate_series(1, 99) g")
        conn.execute("INSERT INTO public.src VALUES (100, 'infinity')")
        chunks, types = _chunks(conn, "SELECT * FROM public.src ORDER BY id")
    with pytest.raises(CsvValueError) as whole:
        frame_from_copy_csv(io.BytesIO(b"".join(chunks)), types)
    with pytest.raises(CsvValueError) as streamed:
        frame_from_copy_stream(iter(chunks), types, piece_bytes=64)
    assert str(streamed.value) == str(whole.value)
    assert str(whole.value) == "column period (date): value 'infinity' at row 100 cannot be read as this type"


def test_types_inferred_from_all_rows_are_read_whole(fresh_db):
    assert not streamable({"id": "bigint", "key": "uuid"})
    assert not streamable({"id": "bigint"}, parse_dates=["id"])
    with postgres.connect(fresh_db) as conn:
        frame = postgres.read_frame(conn, "SELECT 1 AS id, gen_random_uuid() AS key")
    assert list(frame.columns) == ["id", "key"] and len(frame) == 1
