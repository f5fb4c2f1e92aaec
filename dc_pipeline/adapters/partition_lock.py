"""One writer per partition: Postgres session advisory locks on partition keys (`p1`, `b3|p1`).

A run writes a partition's tables one step at a time, each in its own transaction. Two runs of one partition at
once would interleave those writes and leave its tables from different runs. The IO manager therefore takes
the locks of a run's partitions at the run's first write and keeps them, on one dedicated connection, until the
run ends in this process. A process that dies loses its connection, and Postgres releases its locks with it:
a killed run never blocks the next one.

Locks are taken all or none (try, and on a miss release what was taken and retry), so two runs over
overlapping ranges of partitions can never deadlock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import psycopg

from dc_pipeline.adapters import postgres

_NAMESPACE = "dc_pipeline partition "
_RETRY_S = 1.0
APPLICATION_PREFIX = "dc_pipeline run "


class PartitionBusyError(RuntimeError):
    """Another run held a partition for longer than this run may wait."""


class PartitionLock:
    """The advisory locks one run holds in this process."""

    def __init__(self, url: str, run_id: str):
        self._url, self._run_id = url, run_id
        self._conn: psycopg.Connection | None = None
        self.held: set[str] = set()

    def acquire(self, keys: Iterable[str], wait_s: float, on_wait: Callable[[str], None] = lambda _: None) -> None:
        """Hold every key of `keys` (adds to what is held); waits while other runs hold some of them."""
        conn = self._connection()  # first: a new connection (the old one broke) holds nothing yet
        wanted = sorted(set(keys) - self.held)
        if not wanted:
            return
        deadline, told = time.monotonic() + wait_s, False
        while True:
            taken = conn.execute(
                f"SELECT k, pg_try_advisory_lock(hashtextextended('{_NAMESPACE}' || k, 0)) FROM unnest(%s::text[]) k",
                (wanted,),
            ).fetchall()
            if all(ok for _, ok in taken):
                self.held.update(wanted)
                return
            for key, ok in taken:  # all or none: give back what this attempt got
                if ok:
                    conn.execute(f"SELECT pg_advisory_unlock(hashtextextended('{_NAMESPACE}' || %s, 0))", (key,))
            holders = self.holders(conn, [k for k, ok in taken if not ok])
            if time.monotonic() >= deadline:
                raise PartitionBusyError(
                    f"partition(s) {', '.join(k for k, ok in taken if not ok)} are still being written by "
                    f"{holders} after {wait_s:.0f} s; this run wrote nothing to them. Let that run finish or "
                    "terminate it in the UI, then re-execute this run."
                )
            if not told:
                on_wait(f"waiting for partition(s) {', '.join(k for k, ok in taken if not ok)}: {holders} writes them")
                told = True
            time.sleep(_RETRY_S)

    @staticmethod
    def holders(conn: psycopg.Connection, keys: list[str]) -> str:
        """Who holds the locks of `keys`, as `run <id> (pid N)` where the holder says so."""
        rows = conn.execute(
            f"""
            SELECT DISTINCT a.application_name, a.pid
            FROM unnest(%s::text[]) k
            CROSS JOIN LATERAL (SELECT hashtextextended('{_NAMESPACE}' || k, 0) AS h) key
            JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                AND l.classid::bigint = ((key.h >> 32) & 4294967295) AND l.objid::bigint = (key.h & 4294967295)
            JOIN pg_stat_activity a ON a.pid = l.pid
            ORDER BY 2
            """,
            (keys,),
        ).fetchall()
        named = [
            f"run {name[len(APPLICATION_PREFIX) :]} (server pid {pid})"
            if name.startswith(APPLICATION_PREFIX)
            else f"session pid {pid}"
            for name, pid in rows
        ]
        return ", ".join(named) or "another run (it has just released them)"

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            try:
                self._conn.execute("SELECT pg_advisory_unlock_all()")  # at once; a close is seen a moment later
            except psycopg.Error:
                pass  # the connection broke: the server released the locks with the session
            self._conn.close()
        self._conn, self.held = None, set()

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = postgres.connect(
                self._url, autocommit=True, application_name=APPLICATION_PREFIX + self._run_id
            )
            self.held = set()
        return self._conn
