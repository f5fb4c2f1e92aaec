"""Pure parts of the API client: settings, routing, backoff, breaker, cache, models, redaction."""

from __future__ import annotations

import pytest
import requests

from dc_pipeline.adapters.api_cache import LruTtlCache, body_sha256, cache_key
from dc_pipeline.adapters.api_client import (
    ApiClientSettings,
    ApiUnavailable,
    CircuitBreaker,
    DigiCadenceClient,
    ProcessRequestGate,
)
from dc_pipeline.adapters.api_client.resilience import Backoff
from dc_pipeline.adapters.api_models import NormalizedRecord, validation_problems
from dc_pipeline.domain.settings import ConfigError, SystemConfig, parse_system_config
from dc_pipeline_tests.adapters.test_api_client_fixtures import FakeClock


def test_settings_from_config_environment_wins() -> None:
    config = parse_system_config(
        {
            "api_config": {
                "timeout": 12,
                "retry_attempts": 5,
                "max_concurrent_requests": 4,
                "service_ports": {"normalized": 8001},
            },
            "auth_config": {"token_refresh_threshold": 60},
            "random_seed": 9,
        }
    )
    settings = ApiClientSettings.from_config(
        config, env={"API_BASE_URLS": "http://a:7000/, http://b:7000", "API_RETRY_ATTEMPTS": "1", "API_KEY": "key-1"}
    )
    assert settings.base_urls == ("http://a:7000", "http://b:7000")
    assert (settings.timeout, settings.retry_attempts, settings.max_concurrent_requests) == (12, 1, 4)
    assert (settings.token_refresh_threshold, settings.seed) == (60, 9)
    assert settings.api_key is not None and settings.auth_token is None
    defaults = ApiClientSettings.from_config(SystemConfig(), env={})
    assert defaults.base_urls == ("http://localhost:7000", "http://localhost:8001", "http://localhost:8002")
    assert (defaults.timeout, defaults.retry_attempts, defaults.retry_delay) == (30, 3, 1)
    with pytest.raises(ConfigError, match="API_TIMEOUT='soon' is not a valid float"):
        ApiClientSettings.from_config(SystemConfig(), env={"API_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="not an http"):
        ApiClientSettings(base_urls=("localhost:7000",))


def test_service_ports_keep_the_host_and_dedupe() -> None:
    settings = ApiClientSettings(
        base_urls=("http://h1:7000", "http://h1:8001", "http://h2:7000"), service_ports={"normalized": 8001}
    )
    client = DigiCadenceClient(settings, gate=ProcessRequestGate())
    assert client.urls_for("normalized") == ("http://h1:8001", "http://h2:8001")
    assert client.urls_for("frontend") == settings.base_urls


def test_backoff_follows_the_formula_and_is_seeded() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(retry_delay=1, max_backoff_s=30, max_retry_after_s=300, seed=seed)
        return [backoff.delay(k, None) for k in range(7)]

    first = delays(1)
    assert first == delays(1) and first != delays(2)
    for k, delay in enumerate(first):
        base = min(30, 2**k)
        assert 0.5 * base <= delay <= 1.5 * base
    backoff = Backoff(retry_delay=1, max_backoff_s=30, max_retry_after_s=50, seed=42)
    assert backoff.delay(0, 20.0) == 20.0 and backoff.delay(0, 500.0) == 50.0


def test_breaker_state_machine() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()  # consecutive failures only
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.advance(10)
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # exactly one probe
    breaker.record_failure()
    assert breaker.state == "open" and breaker.opens == 2
    clock.advance(10)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


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


def test_validation_problems_name_fields_without_values() -> None:
    with pytest.raises(Exception) as info:
        NormalizedRecord.model_validate(
            {
                "metricname": "m",
                "sectionName": "s",
                "platformname": "p",
                "brandName": "b",
                "normalized": "secret-ish-text",
                "period": "2024-02-15",
            }
        )
    problems = validation_problems(info.value, prefix="[3].")  # type: ignore[arg-type]
    assert any(p.startswith("[3].normalized: ") for p in problems)
    assert any(p.startswith("[3].period: ") and "first day of a month" in p for p in problems)
    assert all("secret-ish-text" not in p for p in problems)
    ok = NormalizedRecord.model_validate(
        {
            "metricname": "m",
            "sectionName": "s",
            "platformname": "p",
            "brandName": "b",
            "normalized": 5,
            "period": "2024-02-01T00:00:00Z",
        }
    )
    assert ok.period is not None and ok.period.day == 1


class _EchoSession(requests.Session):
    """A server that echoes the credentials it got in a 500 body (a real-world leak path)."""

    def request(self, method, url, **kwargs):  # type: ignore[no-untyped-def, override]
        response = requests.Response()
        response.status_code = 500
        response._content = f"boom, you sent {kwargs['headers']}".encode()
        response.url = url
        return response


def test_echoed_secrets_are_redacted_from_errors() -> None:
    settings = ApiClientSettings(base_urls=("http://x:1",), auth_token="tok-abcdef-123", retry_attempts=1)
    client = DigiCadenceClient(settings, session=_EchoSession(), sleep=lambda s: None, gate=ProcessRequestGate())
    with pytest.raises(ApiUnavailable) as info:
        client.weight_sum(1)
    assert "boom, you sent" in str(info.value) and "***" in str(info.value)
    assert "tok-abcdef-123" not in str(info.value) and "tok-abcdef-123" not in " ".join(info.value.answers)


def test_api_errors_survive_pickling_with_their_fields() -> None:
    import pickle

    from dc_pipeline.adapters.api_client import ApiResponseInvalid

    error = ApiResponseInvalid(
        "bad body", service="insights", endpoint="GET /get_multi_data", status=200, problems=("<body>: not valid JSON",)
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ApiResponseInvalid and str(copy) == "bad body"
    assert (copy.service, copy.endpoint, copy.problems) == (
        "insights",
        "GET /get_multi_data",
        ("<body>: not valid JSON",),
    )
