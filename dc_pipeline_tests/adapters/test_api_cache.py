"""The in-process response cache: LRU eviction, TTL expiry and the canonical key."""

from __future__ import annotations

from dc_pipeline.adapters.api_cache import LruTtlCache, body_sha256, cache_key
from dc_pipeline_tests.api_helpers import FakeClock


def test_lru_cache_evicts_least_recent_and_expires() -> None:
    clock = FakeClock()
    cache = LruTtlCache(max_size=2, ttl_s=5, clock=clock)
    for path in ("/a", "/b"):
        cache.put(path, {"project_id": 1}, path.encode(), body_sha256(path.encode()))
    assert cache.get("/a", {"project_id": "1"}) is not None  # params compare as strings; /a is now recent
    cache.put("/c", None, b"c", body_sha256(b"c"))
    assert cache.get("/b", {"project_id": 1}) is None and cache.evictions == 1
    clock.advance(5)
    assert cache.get("/a", {"project_id": 1}) is None and len(cache) == 1
    assert cache_key("/x", {"b": 1, "a": 2}) == cache_key("/x", {"a": "2", "b": "1"})
