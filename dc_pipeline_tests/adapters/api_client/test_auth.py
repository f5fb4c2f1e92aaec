"""Bearer tokens against the simulator: reuse, proactive refresh, one refresh on 401, clear auth
failures, and no secret in logs, exception text, reprs or stats."""

from __future__ import annotations

import itertools
import json
import logging

import pytest

from dc_pipeline.adapters.api_client import ApiAuthError, ApiClientSettings
from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.api_helpers import API_KEY, SECRET_KEY, FakeClock, make_client, tiny_tables


def _sim_with_clock(clock: object) -> ApiSimulator:
    return ApiSimulator(tiny_tables(), ports=(0,), secret_key=SECRET_KEY, api_key=API_KEY, clock=clock)  # type: ignore[arg-type]


def test_token_is_fetched_once_and_reused(sim: ApiSimulator) -> None:
    client = make_client(sim)
    for _ in range(3):
        client.weight_sum(1)
    assert sim.tokens_issued == 1 and client.stats()["token_fetches"] == 1


def test_token_near_expiry_is_refreshed_before_use(sim: ApiSimulator) -> None:
    sim.faults.token_ttl = 100  # below the 300 s refresh threshold: every call needs a fresh token
    client = make_client(sim, token_refresh_threshold=300)
    for _ in range(3):
        client.weight_sum(1)
    assert sim.tokens_issued == 3
    assert [r.status for r in sim.requests_to("/weight_sum")] == [200, 200, 200]


def test_401_after_token_expiry_refreshes_once_and_replays() -> None:
    sim_clock = FakeClock(start=1_700_000_000)
    with _sim_with_clock(sim_clock) as server:
        client = make_client(server, token_refresh_threshold=0)
        client.weight_sum(1)
        sim_clock.advance(3601)  # the server now sees the token as expired; the client does not know
        assert client.weight_sum(2).project_id == 2
        assert server.tokens_issued == 2
        assert [r.status for r in server.requests_to("/weight_sum")] == [200, 401, 200]
        stats = client.stats()
        assert stats["token_refreshes_after_401"] == 1 and stats["retries"] == 0


def test_second_401_after_refresh_is_an_auth_error_without_retry() -> None:
    ticks = itertools.count(start=1_700_000_000, step=10)  # every check is 10 s after the mint
    with _sim_with_clock(lambda: float(next(ticks))) as server:
        server.faults.token_ttl = 5
        sleeps: list[float] = []
        client = make_client(server, sleeps=sleeps, token_refresh_threshold=0)
        with pytest.raises(ApiAuthError) as info:
            client.weight_sum(1)
        message = str(info.value)
        assert "service 'weight_sum' GET /weight_sum?project_id=1" in message
        assert "HTTP 401 again after one token refresh" in message and "token expired" in message
        assert server.tokens_issued == 2 and sleeps == []
        assert [r.status for r in server.requests_to("/weight_sum")] == [401, 401]


def test_static_auth_token_without_api_key() -> None:
    sim_clock = FakeClock(start=1_700_000_000)
    with _sim_with_clock(sim_clock) as server:
        token = server.mint_token(ttl_s=60)
        client = make_client(server, api_key=None, auth_token=token)
        assert client.weight_sum(1).project_id == 1
        assert server.requests_to("/auth/token") == []
        sim_clock.advance(61)
        with pytest.raises(ApiAuthError, match="HTTP 401 and no API_KEY to fetch a new token with"):
            client.weight_sum(1)


def test_wrong_api_key_fails_at_the_token_endpoint(sim: ApiSimulator) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps, api_key="wrong-key-abcdef")
    with pytest.raises(ApiAuthError) as info:
        client.normalized_values(1)
    message = str(info.value)
    assert "service 'normalized' GET /normalized/normalized_value?project_ids=1" in message
    assert "service 'auth' POST /auth/token" in message and "HTTP 401" in message
    assert "invalid or missing X-API-Key" in message
    assert len(sim.requests_to("/auth/token")) == 1 and sleeps == []


def test_no_secret_in_logs_exceptions_reprs_or_stats(sim: ApiSimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # includes urllib3 and the simulator
    texts: list[str] = []
    good = make_client(sim)
    good.normalized_values(1)
    good.weight_sum(1)
    texts += [repr(good), repr(good.settings), str(good.settings), json.dumps(good.stats())]
    issued = sorted(good._tokens.seen)
    assert len(issued) == 1

    wrong_key = "wrong-key-abcdef"
    for client in (make_client(sim, api_key=wrong_key), make_client(sim, api_key=None, auth_token="forged.token")):
        with pytest.raises(ApiAuthError) as info:
            client.weight_sum(1)
        texts += [str(info.value), repr(info.value), " ".join(info.value.answers), repr(client.settings)]

    sim.faults.fail_rate = 1.0  # failures are logged with URLs and statuses too
    with pytest.raises(Exception) as outage:
        make_client(sim, sleeps=[]).weight_sum(1)
    texts.append(str(outage.value))

    texts.append(caplog.text)
    everything = "\n".join(texts)
    assert "HTTP 401" in everything and "status=500" in caplog.text  # the texts are real, not empty
    for secret in (API_KEY, wrong_key, "forged.token", SECRET_KEY, *issued):
        assert secret not in everything


def test_settings_hide_secrets_even_as_plain_strings() -> None:
    settings = ApiClientSettings(base_urls=("http://127.0.0.1:1",), api_key="k-123456", auth_token="t-123456")
    assert "k-123456" not in repr(settings) and "t-123456" not in f"{settings}"
    assert settings.api_key is not None and settings.api_key.reveal() == "k-123456"
