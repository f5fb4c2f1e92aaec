"""The Dagster instance's Postgres storage with pooled connections (dagster.yaml `storage: custom`).

dagster-postgres opens a new connection for every storage call (NullPool, so an idle process holds
none). A run writes a handful of events per partition and asks for the dynamic partitions each
time; on the medium bench that was 2,186 connects in one 27-partition run, ~15 ms each on a busy
machine: a quarter of the run's time. Here the run and schedule storages keep one connection each and the
event log two (more only while several threads need one at once), tested after a second idle (sql_pool.py).
The event log's second: storing a materialization with tags checks for the tags table (`has_table`) on a
second connection while its index transaction holds the first, so with one pooled connection every
materialization opened and closed a fresh one (520 connects in the 1 M-row bench).
The webserver still swaps in its own pool (optimize_for_webserver).

The event log also asks the database's catalog, again and again, whether its own tables and columns exist (before
storing a tagged materialization, reading dynamic partitions or asset records): a catalog query each time, about
3 CPU s of the demo between the run processes and the server. A table or column found once is remembered for the
life of the storage; one not found is asked again, since a migration may add it.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster._core.storage.config import pg_config
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

from dc_pipeline.adapters.sql_pool import forget_pool_after_fork, ping_when_idle

POOL_SIZE = 1
EVENT_LOG_POOL_SIZE = 2
# Threads of one process (the daemon's, the multiprocess executor's event pollers) borrow extra
# connections for a moment; they are closed on return.
MAX_OVERFLOW = 8
POOL_RECYCLE_S = 3600
STORAGE_IDLE_PING_S = 1.0


class PooledPostgresStorage(DagsterPostgresStorage):
    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None, token_provider=None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data=inst_data, token_provider=token_provider)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage._engine.dispose()  # a NullPool engine: nothing held
            engine = create_pg_engine(
                storage.postgres_url,
                token_provider,
                isolation_level="AUTOCOMMIT",
                pool_size=EVENT_LOG_POOL_SIZE if storage is self._event_log_storage else POOL_SIZE,
                max_overflow=MAX_OVERFLOW,
                pool_recycle=POOL_RECYCLE_S,
            )
            # Tested when idle for a second: a restarted database must not fail the next storage call of a daemon,
            # a sensor or a run (bench/fault_matrix.py), and a restart takes longer than that. Within a run's burst
            # of calls (milliseconds apart) a ping per checkout was 1,097 of one ingest_job's 2,582 queries.
            ping_when_idle(engine, idle_s=STORAGE_IDLE_PING_S)
            forget_pool_after_fork(engine)
            storage._engine = engine
        remember_found_schema(self._event_log_storage)

    @classmethod
    def config_type(cls):
        return pg_config()

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


def _found_once(check: Callable[..., bool]) -> Callable[..., bool]:
    """`check(*args, name)`, answered from memory for a `name` it has found before (the last argument: a table or
    column name; a leading connection argument does not matter)."""
    found: set[str] = set()

    def remembered(*args) -> bool:
        name = args[-1]
        if name in found:
            return True
        exists = check(*args)
        if exists:
            found.add(name)
        return exists

    return remembered


def remember_found_schema(event_log) -> None:
    """The event log's table and asset-key column checks, each found name remembered (module docstring)."""
    for method in ("has_table", "has_asset_key_col", "_has_asset_key_col_on_connection"):
        setattr(event_log, method, _found_once(getattr(event_log, method)))
