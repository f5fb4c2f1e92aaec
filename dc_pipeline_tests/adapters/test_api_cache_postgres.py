"""The Postgres response cache: hit within the TTL, miss after it, force_refresh through the client."""

from __future__ import annotations

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.api_cache import ResponseCache, body_sha256
from dc_pipeline.adapters.api_cache_postgres import CACHE_TABLE, PostgresResponseCache, RecordingCache
from dc_pipeline.adapters.api_client import ApiClientSettings, DigiCadenceClient, ProcessRequestGate
from dc_pipeline_tests.api_helpers import API_KEY, FakeClock


def make_client(simulator, cache) -> DigiCadenceClient:
    settings = ApiClientSettings(base_urls=tuple(simulator.base_urls), api_key=API_KEY, timeout=2.0, retry_delay=0.01)
    return DigiCadenceClient(settings, cache=cache, gate=ProcessRequestGate())


def test_hit_within_ttl_miss_after_and_params_canonical(fresh_db) -> None:
    clock = FakeClock(start=1_700_000_000.0)
    cache = PostgresResponseCache(fresh_db, ttl_s=3600, clock=clock)
    assert isinstance(cache, ResponseCache)
    body = b'{"project_id": 1}'
    assert cache.get("/weight_sum", {"project_id": 1}) is None
    cache.put("/weight_sum", {"project_id": 1}, body, body_sha256(body))
    clock.advance(3599)
    hit = cache.get("/weight_sum", {"project_id": "1"})  # same canonical key as the int form
    assert hit is not None and hit.body == body and hit.sha256 == body_sha256(body)
    assert cache.get("/weight_sum", {"project_id": 2}) is None
    clock.advance(1)
    assert cache.get("/weight_sum", {"project_id": 1}) is None  # exactly TTL old: stale
    rows = postgres.connect(fresh_db).execute(f"SELECT path, params::text, sha256 FROM {CACHE_TABLE}").fetchall()
    assert rows == [("/weight_sum", '{"project_id": "1"}', body_sha256(body))]
    assert cache.delete_expired() == 1


def test_put_replaces_the_entry_and_restarts_its_ttl(fresh_db) -> None:
    clock = FakeClock(start=1_700_000_000.0)
    cache = PostgresResponseCache(fresh_db, ttl_s=10, clock=clock)
    cache.put("/p", None, b"[1]", body_sha256(b"[1]"))
    clock.advance(8)
    cache.put("/p", None, b"[2]", body_sha256(b"[2]"))
    clock.advance(8)
    hit = cache.get("/p", {})
    assert hit is not None and hit.body == b"[2]"


def test_client_reuses_cached_body_unless_force_refresh(fresh_db, sim) -> None:  # noqa: F811
    recorder = RecordingCache(PostgresResponseCache(fresh_db, ttl_s=3600))
    client = make_client(sim, recorder)
    first = client.weight_sum(1)
    served = len(sim.requests_to("/weight_sum"))
    second = client.weight_sum(1)
    assert second == first and len(sim.requests_to("/weight_sum")) == served  # from Postgres, no HTTP
    assert client.stats()["cache_hits"] == 1
    client.weight_sum(1, force_refresh=True)
    assert len(sim.requests_to("/weight_sum")) == served + 1
    assert [b.from_cache for b in recorder.take()] == [False, True, False]
    # A second client (another process in production) sees the body through Postgres.
    other = make_client(sim, PostgresResponseCache(fresh_db, ttl_s=3600))
    other.weight_sum(1)
    assert len(sim.requests_to("/weight_sum")) == served + 1
