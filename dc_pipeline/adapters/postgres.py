"""Postgres access for the pipeline: connections, DDL, COPY in and out, partition rewrites.

Every bulk move uses COPY (not row inserts). A partition rewrite is one transaction: delete the
partition's rows, COPY the new ones, so a rerun never duplicates and a crash never half-writes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from dc_pipeline.adapters import table_ddl
from dc_pipeline.adapters.copy_binary import binary_for_copy, constant_column
from dc_pipeline.adapters.copy_csv import frame_from_copy_csv
from dc_pipeline.adapters.copy_in import CSV_ROWS, csv_for_copy
from dc_pipeline.adapters.copy_stream import frame_from_copy_stream, streamable
from dc_pipeline.domain.source_tables import SOURCE_COLUMNS

PIPELINE_SCHEMAS = ("dc_staging", "dc_core", "dc_dq", "dc_models", "dc_reports", "dc_ops", "optuna")

# Column families whose values are stored as jsonb (dicts, lists) rather than scalars.
_JSON = "jsonb"


class DatabaseError(RuntimeError):
    """A database operation failed; the message names the cause and the fix, never a password."""


def redact_url(url: str) -> str:
    """The URL with any password replaced, safe for logs and messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(
    url: str,
    *,
    autocommit: bool = False,
    connect_timeout: int = 10,
    statement_timeout_s: int | None = None,
    application_name: str | None = None,
) -> psycopg.Connection:
    """`application_name` shows in pg_stat_activity: who holds a lock, in words."""
    extra = {"application_name": application_name} if application_name else {}
    if statement_timeout_s:
        extra["options"] = f"-c statement_timeout={int(statement_timeout_s * 1000)}"
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout, **extra)
    except psycopg.OperationalError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseError(
            f"cannot connect to Postgres at {redact_url(url)}: {_scrub(message, url)}. "
            "Check that the server runs and DATABASE_URL (or DATABASE_HOST/PORT/NAME/USER/PASSWORD) is right; "
            "unset them to use the embedded server."
        ) from None


def _scrub(text: str, url: str) -> str:
    from urllib.parse import urlsplit

    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def database_url(server_url: str, database: str) -> str:
    """The same server URL pointing at another database (query string kept)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def ensure_database(server_url: str, database: str) -> None:
    """Create `database` on the server if absent (needs CREATEDB)."""
    with connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # a concurrent command created it between the check and the CREATE


def init_source_schema(conn: psycopg.Connection) -> None:
    ddl = resources.files("dc_pipeline.adapters").joinpath("sql/source_schema.sql").read_text()
    conn.execute(ddl)


def init_pipeline_schemas(conn: psycopg.Connection) -> None:
    for schema in PIPELINE_SCHEMAS:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


# -- COPY out -----------------------------------------------------------------------------------
def read_frame(
    conn: psycopg.Connection,
    query: str | sql.Composable,
    params: Mapping[str, Any] | None = None,
    parse_dates: Sequence[str] = (),
) -> pd.DataFrame:
    """Run a SELECT and return a DataFrame, streamed through COPY ... TO STDOUT (CSV)."""
    if isinstance(query, str):
        query = sql.SQL(query)  # type: ignore[arg-type]
    if params:
        query = sql.SQL(query.as_string(conn)).format(**{k: _literal(v) for k, v in params.items()})  # type: ignore[union-attr]
    copy_sql = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(query)
    with conn.cursor() as cur:
        types = _column_types(cur, query)
        with cur.copy(copy_sql) as copy:
            if streamable(types, parse_dates):  # parsed as it arrives: never the whole text beside the frame
                return frame_from_copy_stream(copy, types)
            buffer = io.BytesIO()
            for chunk in copy:
                buffer.write(chunk)
    buffer.seek(0)
    if buffer.getbuffer().nbytes == 0:
        return pd.DataFrame(columns=list(types))
    return frame_from_copy_csv(buffer, types, parse_dates)


# Columns the IO manager adds to every stored row; readers hand frames back without them.
RUN_COLUMNS = ("run_id", "data_version")


def read_table(
    conn: psycopg.Connection,
    qualified: str,
    where: Mapping[str, Iterable[Any]] | None = None,
    keep_run_columns: bool = False,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of a pipeline table (`schema.table`) matching `where` (column -> allowed values), without the
    run columns unless asked (then not even read: a run id and a version per row were most of the bytes of a
    narrow table), only `columns` (those the table has) when given; an empty frame when the table does not
    exist yet (nothing materialized)."""
    columns = [
        c
        for c in table_columns(conn, qualified)
        if (keep_run_columns or c not in RUN_COLUMNS) and (columns is None or c in columns)
    ]
    if not columns:
        return pd.DataFrame()
    schema, name = qualified.split(".")
    conditions = [
        sql.SQL("{} = ANY({})").format(sql.Identifier(c), sql.Literal(list(v))) for c, v in (where or {}).items()
    ]
    query = sql.SQL("SELECT {} FROM {}.{}{}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""),
    )
    return read_frame(conn, query)


def table_columns(conn: psycopg.Connection, qualified: str) -> list[str]:
    """The table's columns in order; none when it does not exist."""
    return list(table_types(conn, qualified))


def table_types(conn: psycopg.Connection, qualified: str) -> dict[str, str]:
    """The table's columns in order -> their type names (as `format_type` spells them); empty when no table."""
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (qualified,),
    ).fetchall()
    return dict(rows)


def _literal(value: Any) -> sql.Composable:
    if isinstance(value, (list, tuple, set)):
        return sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in value)) if value else sql.SQL("(NULL)")
    return sql.Literal(value)


def _column_types(cur: psycopg.Cursor, query: sql.Composable) -> dict[str, str]:
    cur.execute(sql.SQL("SELECT * FROM ({}) AS q LIMIT 0").format(query))
    names = [d.name for d in cur.description]
    oids = [d.type_code for d in cur.description]
    lookup = dict(
        cur.execute("SELECT oid, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)", (oids,)).fetchall()
    )
    return {name: lookup.get(oid, "text") for name, oid in zip(names, oids)}


# -- COPY in ------------------------------------------------------------------------------------
def copy_frame(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> int:
    """COPY `frame` into `schema.table`: binary where every column is covered (adapters/copy_binary.py), else CSV
    (adapters/copy_in.py), a slice at a time; `constants` (column -> the value of every row) are added
    per slice. Returns the number of rows written."""
    columns = list(columns or frame.columns)
    constants = dict(constants or {})
    if frame.empty:
        return 0
    schema, name = table.split(".") if "." in table else ("public", table)
    binary = binary_for_copy(frame[columns], table_types(conn, f"{schema}.{name}"), constants=constants)
    target = sql.SQL("COPY {}.{} ({}) FROM STDIN WITH ({})").format(
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(", ").join(sql.Identifier(c) for c in [*columns, *constants]),
        sql.SQL("FORMAT binary" if binary is not None else "FORMAT csv, NULL '\\N'"),
    )
    with conn.cursor() as cur, cur.copy(target) as copy:
        if binary is not None:
            for data in binary:
                copy.write(data)
            return len(frame)
        for start in range(0, len(frame), CSV_ROWS):
            copy.write(csv_for_copy(frame.iloc[start : start + CSV_ROWS][columns].assign(**constants)))
    return len(frame)


# -- derived tables -----------------------------------------------------------------------------
def ensure_table(
    conn: psycopg.Connection, table: str, frame: pd.DataFrame, extra: Mapping[str, str] | None = None
) -> None:
    """Create `schema.table` from the frame's dtypes if absent; add columns that are new.

    Two runs writing a new table at once (the demo's two workers) both pass `IF NOT EXISTS` and one fails on
    Postgres' catalog index (UniqueViolation on pg_type), which cost an API step its 60 s retry: the DDL is taken
    under a transaction-level advisory lock on the table's name, and skipped when nothing is missing."""
    schema, name = table.split(".")
    columns = {c: _pg_type(frame[c]) for c in frame.columns}
    columns.update(extra or {})
    if table_exists(conn, table) and not set(columns) - existing_columns(conn, table):
        return
    with conn.transaction():  # a savepoint inside the caller's transaction: the lock lasts until it commits
        table_ddl.ddl_lock(conn, table)
        _create_or_extend(conn, schema, name, columns)


def _create_or_extend(conn: psycopg.Connection, schema: str, name: str, columns: Mapping[str, str]) -> None:
    table = f"{schema}.{name}"
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} ({})").format(
            sql.Identifier(schema),
            sql.Identifier(name),
            sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()),
        )
    )
    existing = existing_columns(conn, table)
    for column, pg_type in columns.items():
        if column not in existing:
            conn.execute(
                sql.SQL("ALTER TABLE {}.{} ADD COLUMN {} {}").format(
                    sql.Identifier(schema), sql.Identifier(name), sql.Identifier(column), sql.SQL(pg_type)
                )
            )


def _pg_type(series: pd.Series) -> str:
    """Column type from the dtype, or for object columns from the first non-null value."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamptz" if getattr(dtype, "tz", None) is not None else "date"
    first = series.first_valid_index()
    if first is None:
        return "text"
    value = series.loc[first]
    if isinstance(value, (dict, list)):
        return _JSON
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "bigint"
    if isinstance(value, (float, np.floating)):
        return "double precision"
    if isinstance(value, pd.Timestamp):
        return "timestamptz" if value.tzinfo is not None else "date"
    return "text"


_INFORMATION_SCHEMA_TYPES = {"timestamp with time zone": "timestamptz"}


def _retype_null_columns(conn: psycopg.Connection, table: str, columns: Mapping[str, pd.Series]) -> dict[str, str]:
    """A column created from null-only rows got a guessed type; the first real values fix it
    (only while the column still holds nothing but nulls). Returns column -> stored type."""
    schema, name = table.split(".")
    stored = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, name),
        ).fetchall()
    )
    for column, series in columns.items():
        if column not in stored or series.first_valid_index() is None:
            continue
        wanted = _pg_type(series)
        if _INFORMATION_SCHEMA_TYPES.get(stored[column], stored[column]) == wanted:
            continue
        holds_values = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {}.{} WHERE {} IS NOT NULL)").format(
                sql.Identifier(schema), sql.Identifier(name), sql.Identifier(column)
            )
        ).fetchone()[0]
        if not holds_values:
            conn.execute(
                sql.SQL("ALTER TABLE {}.{} ALTER COLUMN {} TYPE {} USING NULL").format(
                    sql.Identifier(schema), sql.Identifier(name), sql.Identifier(column), sql.SQL(wanted)
                )
            )
            stored[column] = wanted
    return {c: _INFORMATION_SCHEMA_TYPES.get(t, t) for c, t in stored.items()}


def replace_rows(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    where: Mapping[str, Iterable[Any]],
    extra_columns: Mapping[str, Any] | None = None,
) -> int:
    """In the caller's transaction: delete the rows matching `where` (column -> allowed values),
    then COPY `frame` (plus constant `extra_columns`). Creates or widens the table as needed."""
    if frame.empty:
        # An empty frame says nothing reliable about column types: only the first rows create or
        # widen the table. The partition's old rows still go.
        if table_exists(conn, table):
            _delete_partition(conn, table, where)
        return 0
    frame = _prepared(conn, table, frame, extra_columns, key_columns=list(where))
    table_ddl.ensure_key_index(conn, table, list(where))
    _delete_partition(conn, table, where)
    return copy_frame(conn, table, frame, constants=extra_columns)


def append_rows(
    conn: psycopg.Connection, table: str, frame: pd.DataFrame, extra_columns: Mapping[str, Any] | None = None
) -> int:
    """In the caller's transaction: COPY `frame` (plus constant `extra_columns`) after the rows already there, for
    tables that keep history. Creates or widens the table as needed."""
    if frame.empty:
        return 0
    frame = _prepared(conn, table, frame, extra_columns, key_columns=["project_id", "brand_id"])
    return copy_frame(conn, table, frame, constants=extra_columns)


def _prepared(
    conn: psycopg.Connection,
    table: str,
    frame: pd.DataFrame,
    extra_columns: Mapping[str, Any] | None,
    key_columns: Sequence[str],
) -> pd.DataFrame:
    """The frame ready to be written with its constant columns (which copy_frame adds per slice, not here), the
    table created or widened for both, integer columns as integers."""
    # A shallow copy: with pandas' copy-on-write the caller's frame never sees the columns set here, and the
    # deep copy of a million-row frame was a second of each partition rewrite.
    constants = {c: constant_column(v, 1) for c, v in (extra_columns or {}).items()}
    frame = frame.drop(columns=[c for c in constants if c in frame.columns]).copy(deep=False)
    # Partition key columns are integers whatever this frame's dtype says.
    keys = {c: "bigint" for c in key_columns if c in frame.columns}
    ensure_table(conn, table, frame, {**{c: _pg_type(s) for c, s in constants.items()}, **keys})
    stored = _retype_null_columns(conn, table, {**{c: frame[c] for c in frame.columns}, **constants})
    # Integer columns arrive as floats once a NaN joins them ("5.0"): write them as integers.
    for column, pg_type in stored.items():
        if pg_type == "bigint" and column in frame.columns and pd.api.types.is_float_dtype(frame[column]):
            values = frame[column].dropna()
            if (values % 1 == 0).all():  # a real fraction is not rounded away: COPY then fails loudly
                frame[column] = frame[column].astype("Int64")
    return frame


def lock_for_transaction(conn: psycopg.Connection, keys: Iterable[str]) -> None:
    """Advisory locks held until the transaction ends, taken in sorted order (two writers of overlapping keys
    never deadlock): a second writer of the same partition waits until the first has committed."""
    for key in sorted(set(keys)):
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))


def _delete_partition(conn: psycopg.Connection, table: str, where: Mapping[str, Iterable[Any]]) -> None:
    schema, name = table.split(".")
    conditions = [
        sql.SQL("{} = ANY({})").format(sql.Identifier(c), sql.Literal(list(map(_python, v)))) for c, v in where.items()
    ]
    conn.execute(
        sql.SQL("DELETE FROM {}.{} WHERE {}").format(
            sql.Identifier(schema),
            sql.Identifier(name),
            sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("true"),
        )
    )


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def existing_columns(conn: psycopg.Connection, table: str) -> set[str]:
    schema, name = table.split(".")
    return {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
            (schema, name),
        ).fetchall()
    }


def table_exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]


# -- source tables ------------------------------------------------------------------------------
def load_source_tables(
    conn: psycopg.Connection, tables: Mapping[str, pd.DataFrame], replace: bool = True
) -> dict[str, int]:
    """Load source tables with COPY in one transaction (`replace` empties them first)."""
    counts: dict[str, int] = {}
    for table, columns in SOURCE_COLUMNS.items():
        frame = tables.get(table)
        if frame is None:
            continue
        if replace:
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier("public", table)))
        present = [c for c in (*columns, "created_at", "updated_at") if c in frame.columns]
        counts[table] = copy_frame(conn, f"public.{table}", frame, present)
    if "normalisedvalue" in tables and len(tables["normalisedvalue"]):
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('public.normalisedvalue', 'id'), "
            "(SELECT max(id) FROM public.normalisedvalue))"
        )
    return counts
