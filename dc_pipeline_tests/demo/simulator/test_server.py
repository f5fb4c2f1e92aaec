"""The simulator's server over raw HTTP: credentials, tokens, the open mode."""

from __future__ import annotations

import time

import requests

from dc_pipeline.demo.simulator import ApiSimulator, TokenSigner
from dc_pipeline_tests.api_helpers import API_KEY, SECRET_KEY, FakeClock, get, tiny_tables

KEY = {"X-API-Key": API_KEY}


def test_token_endpoint_and_data_paths_check_credentials(server: ApiSimulator) -> None:
    base = server.base_urls[0]
    assert requests.post(f"{base}/auth/token", timeout=3).status_code == 401
    assert requests.post(f"{base}/auth/token", headers={"X-API-Key": "nope"}, timeout=3).status_code == 401
    answer = requests.post(f"{base}/auth/token", headers=KEY, timeout=3).json()
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}

    assert get(server, "/weight_sum?project_id=1", headers={}).status_code == 401
    assert get(server, "/weight_sum?project_id=1").status_code == 200  # API key alone
    assert get(server, "/weight_sum?project_id=1", 1, headers=bearer).status_code == 200  # any replica
    forged = TokenSigner("another-secret", time.time).mint(60)
    reply = get(server, "/weight_sum?project_id=1", headers={"Authorization": f"Bearer {forged}", **KEY})
    assert reply.status_code == 401 and reply.json()["error"] == "invalid token signature"
    assert get(server, "/health", headers={}).json() == {"status": "ok"}  # health needs no auth


def test_expired_token_is_rejected_even_with_the_api_key() -> None:
    clock = FakeClock(start=1_700_000_000)
    with ApiSimulator(tiny_tables(), secret_key=SECRET_KEY, api_key=API_KEY, clock=clock) as sim:
        token = sim.mint_token(ttl_s=10)
        headers = {"Authorization": f"Bearer {token}", **KEY}
        assert get(sim, "/weight_sum?project_id=1", headers=headers).status_code == 200
        clock.advance(10)
        reply = get(sim, "/weight_sum?project_id=1", headers=headers)
        assert reply.status_code == 401 and reply.json()["error"] == "token expired"
        assert "invalid_token" in reply.headers["WWW-Authenticate"]


def test_open_mode_without_api_key_serves_everyone() -> None:
    with ApiSimulator(tiny_tables(), secret_key=SECRET_KEY, api_key=None) as sim:
        assert get(sim, "/weight_sum?project_id=2", headers={}).json()["weight_sum"]["total"] == 7.0
        assert requests.post(sim.base_urls[0] + "/auth/token", timeout=3).status_code == 401
