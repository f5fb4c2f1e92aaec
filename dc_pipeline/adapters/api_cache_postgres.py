"""Persistent API response cache on `dc_staging.api_cache` (SPEC §3 "Cache").

Implements the `ResponseCache` protocol of `api_cache`: one row per (path, params) holding the
body, its sha256 and `fetched_at`. A body younger than the TTL (CACHE_TIMEOUT) is reused; the
client skips `get` when run config sets `force_refresh` and still stores the fresh body.
`RecordingCache` wraps any cache (or none) and keeps every body the client used in this run, so
assets can land the raw JSON they were built from.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from dc_pipeline.adapters import postgres, table_ddl
from dc_pipeline.adapters.api_cache import CachedResponse, ResponseCache, cache_key

CACHE_TABLE = "dc_staging.api_cache"

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS dc_staging;
CREATE TABLE IF NOT EXISTS {CACHE_TABLE} (
    path text NOT NULL,
    params jsonb NOT NULL,
    body bytea NOT NULL,
    sha256 text NOT NULL,
    fetched_at timestamptz NOT NULL,
    PRIMARY KEY (path, params)
);
CREATE INDEX IF NOT EXISTS api_cache_fetched_at ON {CACHE_TABLE} (fetched_at);
"""


def canonical_params(params: Mapping[str, Any] | None) -> str:
    """The same canonical form as the in-process cache key ({'a': 1} == {'a': '1'})."""
    return cache_key("", params)[1:]


class PostgresResponseCache:
    """`ResponseCache` on Postgres. `clock` gives epoch seconds (injectable for TTL tests)."""

    def __init__(self, url: str, ttl_s: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        if ttl_s < 0:
            raise ValueError(f"cache TTL must be >= 0 s, got {ttl_s}")
        self.url = url
        self.ttl_s = float(ttl_s)
        self._clock = clock
        self._ready = False
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.writes = 0

    def __repr__(self) -> str:
        return f"PostgresResponseCache({postgres.redact_url(self.url)}, ttl_s={self.ttl_s:g})"

    def _connect(self) -> psycopg.Connection:
        conn = postgres.connect(self.url)
        if not self._ready:
            with self._lock:
                if not self._ready:
                    table_ddl.create_if_missing(conn, CACHE_TABLE, _DDL)
                    conn.commit()
                    self._ready = True
        return conn

    def get(self, path: str, params: Mapping[str, Any] | None) -> CachedResponse | None:
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT body, sha256, fetched_at FROM {CACHE_TABLE} WHERE path = %s AND params = %s::jsonb",
                (path, canonical_params(params)),
            ).fetchone()
        fetched_at = row[2].timestamp() if row else None
        with self._lock:
            if row is None or self._clock() - fetched_at >= self.ttl_s:
                self.misses += 1
                return None
            self.hits += 1
        return CachedResponse(body=bytes(row[0]), sha256=row[1], fetched_at=fetched_at)

    def put(self, path: str, params: Mapping[str, Any] | None, body: bytes, sha256: str) -> None:
        fetched_at = datetime.fromtimestamp(self._clock(), tz=UTC)
        with self._connect() as conn:
            conn.execute(
                f"INSERT INTO {CACHE_TABLE} (path, params, body, sha256, fetched_at) "
                "VALUES (%s, %s::jsonb, %s, %s, %s) "
                "ON CONFLICT (path, params) DO UPDATE SET body = EXCLUDED.body, sha256 = EXCLUDED.sha256, "
                "fetched_at = EXCLUDED.fetched_at",
                (path, canonical_params(params), body, sha256, fetched_at),
            )
            conn.commit()
        with self._lock:
            self.writes += 1

    def delete_expired(self) -> int:
        """Remove rows older than the TTL (daily maintenance, SPEC §11); returns the count."""
        cutoff = datetime.fromtimestamp(self._clock() - self.ttl_s, tz=UTC)
        with self._connect() as conn:
            deleted = conn.execute(f"DELETE FROM {CACHE_TABLE} WHERE fetched_at <= %s", (cutoff,)).rowcount
            conn.commit()
        return deleted


@dataclass(frozen=True)
class RecordedBody:
    path: str
    params: str  # canonical JSON of the params
    body: bytes
    sha256: str
    from_cache: bool
    fetched_at: float  # epoch seconds (cache time for hits)


class RecordingCache:
    """Delegates to `inner` (None = no caching) and records each body the client used, in order."""

    def __init__(self, inner: ResponseCache | None = None, clock: Callable[[], float] = time.time) -> None:
        self.inner = inner
        self._clock = clock
        self._lock = threading.Lock()
        self.bodies: list[RecordedBody] = []

    def get(self, path: str, params: Mapping[str, Any] | None) -> CachedResponse | None:
        hit = self.inner.get(path, params) if self.inner is not None else None
        if hit is not None:
            self._record(RecordedBody(path, canonical_params(params), hit.body, hit.sha256, True, hit.fetched_at))
        return hit

    def put(self, path: str, params: Mapping[str, Any] | None, body: bytes, sha256: str) -> None:
        if self.inner is not None:
            self.inner.put(path, params, body, sha256)
        self._record(RecordedBody(path, canonical_params(params), body, sha256, False, self._clock()))

    def _record(self, item: RecordedBody) -> None:
        with self._lock:
            self.bodies.append(item)

    def take(self) -> list[RecordedBody]:
        with self._lock:
            out, self.bodies = self.bodies, []
        return out
