"""DDL that runs while pipelines write: the advisory lock two runs creating the same table take, `CREATE ... IF NOT
EXISTS` under it, and the partition key index of a pipeline table."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql


def ddl_lock(conn: psycopg.Connection, table: str) -> None:
    """A transaction-level advisory lock on `table`'s DDL: two runs creating the same table, type or index at once
    both pass `IF NOT EXISTS` and one fails on Postgres' catalog index (UniqueViolation on pg_type)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"dc_pipeline.ddl:{table}",))


def create_if_missing(conn: psycopg.Connection, table: str, ddl: str) -> None:
    """Run `CREATE ... IF NOT EXISTS` statements for `table` under its DDL lock (in a savepoint when the caller has a
    transaction open: the lock lasts until that commits)."""
    with conn.transaction():
        ddl_lock(conn, table)
        conn.execute(ddl)


_indexed: set[tuple] = set()  # (server, database, table, columns) known to be indexed, in this process


def ensure_key_index(conn: psycopg.Connection, table: str, key_columns: Sequence[str]) -> None:
    """An index on the partition key columns (project_id first), so a partition's DELETE and the reads of a few
    projects do not scan the whole table: without it, Postgres CPU grew 10.7x for 5.15x the rows (1 M -> 5 M,
    bench/bench_pipeline.py). Created once, also on tables written before there was one."""
    columns = tuple(sorted(key_columns, key=lambda c: (c != "project_id", c)))
    known = (conn.info.host, conn.info.port, conn.info.dbname, table, columns)
    if not columns or known in _indexed:
        return
    schema, name = table.split(".")
    index = f"{name}_{'_'.join(columns)}_key"[:63]
    exists = "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND indexname = %s"
    if conn.execute(exists, (schema, index)).fetchone() is None:
        with conn.transaction():  # under the table's DDL lock: two runs must not both create it
            ddl_lock(conn, table)
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} ({})").format(
                    sql.Identifier(index),
                    sql.Identifier(schema),
                    sql.Identifier(name),
                    sql.SQL(", ").join(map(sql.Identifier, columns)),
                )
            )
    _indexed.add(known)
