"""Pooled SQLAlchemy connections that survive a restarted database and a fork.

A pooled connection is tested before use only when it has been idle for IDLE_PING_S: a ping per
checkout (pool_pre_ping) doubles the round trips of a busy caller, and each round trip waits for a
Postgres backend to be scheduled, which is what slows parallel workers on a busy machine.
"""

from __future__ import annotations

import os
import time
import weakref

from sqlalchemy import event, exc

IDLE_PING_S = 30.0

# Engines whose pooled connections a forked child must not share with its parent (same socket).
_forkable_engines: weakref.WeakSet = weakref.WeakSet()


def ping_when_idle(engine, idle_s: float = IDLE_PING_S) -> None:
    """Test a pooled connection on checkout when it sat idle for `idle_s` or more; a dead one is
    replaced (SQLAlchemy's recipe for custom pessimistic disconnect handling)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, connection_record):
        connection_record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, connection_record, connection_proxy):
        since = connection_record.info.get("checked_in_at")
        if since is not None and time.monotonic() - since < idle_s:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
        except Exception as error:  # the pool retries with a fresh connection
            raise exc.DisconnectionError(f"pooled connection failed its idle check: {type(error).__name__}") from error


def forget_pool_after_fork(engine) -> None:
    """A forked child opens its own connections; the parent's stay the parent's (SQLAlchemy's
    `dispose(close=False)` recipe for multiprocessing)."""
    _forkable_engines.add(engine)


def _reset_in_child() -> None:
    for engine in list(_forkable_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_reset_in_child)
