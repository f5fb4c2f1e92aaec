"""Response cache for Digi-Cadence API bodies (SPEC §3 "Cache").

`ResponseCache` is the protocol the client talks to; `LruTtlCache` is the in-process backend.
A Postgres backend on `dc_staging.api_cache` implements the same two methods.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    sha256: str
    fetched_at: float  # seconds on the cache's clock (epoch for persistent backends)


@runtime_checkable
class ResponseCache(Protocol):
    """A body cache keyed by (path, params). Implementations honour their own TTL:
    `get` returns None for an entry older than it."""

    def get(self, path: str, params: Mapping[str, Any] | None) -> CachedResponse | None: ...

    def put(self, path: str, params: Mapping[str, Any] | None, body: bytes, sha256: str) -> None: ...


def cache_key(path: str, params: Mapping[str, Any] | None) -> str:
    """Canonical key: params sorted and stringified, so {'a': 1} and {'a': '1'} share an entry."""
    canon = {str(k): str(v) for k, v in (params or {}).items()}
    return f"{path}?{json.dumps(canon, sort_keys=True, separators=(',', ':'))}"


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def lru_cache_from_config(max_cache_size: int = 1000, cache_timeout_s: float = 3600.0) -> LruTtlCache:
    """`caching_config.max_cache_size` entries, TTL `CACHE_TIMEOUT` (SPEC §3, §10)."""
    return LruTtlCache(max_size=max_cache_size, ttl_s=cache_timeout_s)


class LruTtlCache:
    """Thread-safe LRU holding at most `max_size` entries, each valid for `ttl_s` seconds."""

    def __init__(
        self, max_size: int = 1000, ttl_s: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 1:
            raise ValueError(f"max_size must be >= 1, got {max_size}")
        if ttl_s < 0:
            raise ValueError(f"ttl_s must be >= 0, got {ttl_s}")
        self.max_size = max_size
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, path: str, params: Mapping[str, Any] | None) -> CachedResponse | None:
        key = cache_key(path, params)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            if self._clock() - entry.fetched_at >= self.ttl_s:
                del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, path: str, params: Mapping[str, Any] | None, body: bytes, sha256: str) -> None:
        key = cache_key(path, params)
        with self._lock:
            self._entries[key] = CachedResponse(body=body, sha256=sha256, fetched_at=self._clock())
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_size:
                self._entries.popitem(last=False)
                self.evictions += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
