"""The Digi-Cadence API simulator over raw HTTP: auth, bodies built from the tables, faults, CLI."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest
import requests

from dc_pipeline.demo.simulator import ApiSimulator, TokenSigner
from dc_pipeline.demo.simulator_cli import main as simulator_main
from dc_pipeline_tests.adapters.test_api_client_fixtures import API_KEY, SECRET_KEY, FakeClock, tiny_tables

KEY = {"X-API-Key": API_KEY}


@pytest.fixture
def server() -> Iterator[ApiSimulator]:
    with ApiSimulator(tiny_tables(), ports=(0, 0), secret_key=SECRET_KEY, api_key=API_KEY, seed=11) as sim:
        yield sim


def _get(sim: ApiSimulator, path: str, port_index: int = 0, **kwargs: object) -> requests.Response:
    kwargs.setdefault("headers", KEY)
    kwargs.setdefault("timeout", 3)
    return requests.get(sim.base_urls[port_index] + path, **kwargs)  # type: ignore[arg-type]


def test_token_endpoint_and_data_paths_check_credentials(server: ApiSimulator) -> None:
    base = server.base_urls[0]
    assert requests.post(f"{base}/auth/token", timeout=3).status_code == 401
    assert requests.post(f"{base}/auth/token", headers={"X-API-Key": "nope"}, timeout=3).status_code == 401
    answer = requests.post(f"{base}/auth/token", headers=KEY, timeout=3).json()
    assert answer["token_type"] == "bearer" and answer["expires_in"] == 3600
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}

    assert _get(server, "/weight_sum?project_id=1", headers={}).status_code == 401
    assert _get(server, "/weight_sum?project_id=1").status_code == 200  # API key alone
    assert _get(server, "/weight_sum?project_id=1", 1, headers=bearer).status_code == 200  # any replica
    forged = TokenSigner("another-secret", time.time).mint(60)
    reply = _get(server, "/weight_sum?project_id=1", headers={"Authorization": f"Bearer {forged}", **KEY})
    assert reply.status_code == 401 and reply.json()["error"] == "invalid token signature"
    assert _get(server, "/health", headers={}).json() == {"status": "ok"}  # health needs no auth


def test_expired_token_is_rejected_even_with_the_api_key() -> None:
    clock = FakeClock(start=1_700_000_000)
    with ApiSimulator(tiny_tables(), secret_key=SECRET_KEY, api_key=API_KEY, clock=clock) as sim:
        token = sim.mint_token(ttl_s=10)
        headers = {"Authorization": f"Bearer {token}", **KEY}
        assert _get(sim, "/weight_sum?project_id=1", headers=headers).status_code == 200
        clock.advance(10)
        reply = _get(sim, "/weight_sum?project_id=1", headers=headers)
        assert reply.status_code == 401 and reply.json()["error"] == "token expired"
        assert "invalid_token" in reply.headers["WWW-Authenticate"]


def test_open_mode_without_api_key_serves_everyone() -> None:
    with ApiSimulator(tiny_tables(), secret_key=SECRET_KEY, api_key=None) as sim:
        assert _get(sim, "/weight_sum?project_id=2", headers={}).json()["weight_sum"]["total"] == 7.0
        assert requests.post(sim.base_urls[0] + "/auth/token", timeout=3).status_code == 401


def test_normalized_body_is_built_from_the_tables() -> None:
    tables = tiny_tables()
    nv = tables["normalisedvalue"]
    stray = nv.iloc[[0]].assign(id=999, metric_id=4242)  # a metric the API cannot name (V2 fault)
    tables["normalisedvalue"] = pd.concat([nv, stray], ignore_index=True)
    with ApiSimulator(tables, secret_key=SECRET_KEY, api_key=API_KEY) as sim:
        body = _get(sim, "/normalized/normalized_value?project_ids=1").json()
        assert len(body) == 24 and all(r["metric_id"] != 4242 for r in body)
        row = next(r for r in body if (r["brand_id"], r["metric_id"], r["period"]) == (2, 3, "2024-02-01"))
        assert row == {
            "metricname": "organic_traffic",
            "sectionName": "Organic Performance",
            "platformname": "YouTube",
            "brandName": "TechLaptop",
            "normalized": 60 + 10 + 3 + 2,
            "project_id": 1,
            "brand_id": 2,
            "metric_id": 3,
            "period": "2024-02-01",
            "updated_at": "2024-04-02T08:00:00Z",
        }
        both = _get(sim, "/normalized/normalized_value?project_ids=1,2").json()
        assert len(both) == 28
        assert _get(sim, "/normalized/normalized_value?project_ids=9").status_code == 404
        assert _get(sim, "/normalized/normalized_value").status_code == 400
        assert _get(sim, "/weight_sum?project_id=x").status_code == 400
        meta = _get(sim, "/api/v1/project/get-project/?project_id=1").json()["project"]
        assert meta["platforms"] == ["Amazon", "Instagram", "Meta Ads", "YouTube"]
        assert _get(sim, "/brands/2/project_id/2").json()["error"] == "brand 2 is not a member of project 2"


def test_drift_is_seeded_and_perturbs_about_the_requested_share(server: ApiSimulator) -> None:
    clean = _get(server, "/brands/1/project_id/1").json()["business_outcomes"]
    server.faults.drift = 0.5
    drifted = _get(server, "/brands/1/project_id/1").json()["business_outcomes"]
    again = _get(server, "/brands/1/project_id/1", 1).json()["business_outcomes"]
    assert drifted == again  # same seed, same perturbation on every replica
    cells = [(c[k], d[k]) for c, d in zip(clean, drifted, strict=True) for k in c if k != "period"]
    changed = [abs(d / c - 1) for c, d in cells if c != d]
    assert 0.25 <= len(changed) / len(cells) <= 0.75 and all(0.1 <= x <= 0.3 + 1e-9 for x in changed)

    values = _get(server, "/normalized/normalized_value?project_ids=1").json()
    assert all(0 <= r["normalized"] <= 100 for r in values)
    server.faults.drift_seed = 12
    other = _get(server, "/normalized/normalized_value?project_ids=1").json()
    assert [r["normalized"] for r in other] != [r["normalized"] for r in values]


def test_value_override_changes_one_record_and_its_updated_at(server: ApiSimulator) -> None:
    before = _get(server, "/normalized/normalized_value?project_ids=1").json()
    server.set_value_override(1, 2, 4, "2024-03-01", 12.5)
    after = _get(server, "/normalized/normalized_value?project_ids=1").json()
    diff = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(diff) == 1
    old, new = diff[0]
    assert (new["brand_id"], new["metric_id"], new["period"], new["normalized"]) == (2, 4, "2024-03-01", 12.5)
    assert new["updated_at"] > old["updated_at"]
    server.clear_value_overrides()
    assert _get(server, "/normalized/normalized_value?project_ids=1").json() == before


def test_status_faults_count_down_and_carry_retry_after(server: ApiSimulator) -> None:
    server.faults.update(fail_next_n=2, fail_status=429, retry_after=7)
    first = _get(server, "/get_multi_data?project_id=1")
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert _get(server, "/get_multi_data?project_id=1").status_code == 429
    assert _get(server, "/get_multi_data?project_id=1").status_code == 200
    assert _get(server, "/health").status_code == 200 and server.faults.fail_next_n == 0


def test_body_faults_at_the_http_level(server: ApiSimulator) -> None:
    server.faults.malformed_json = True
    reply = _get(server, "/weight_sum?project_id=1")
    assert reply.status_code == 200 and int(reply.headers["Content-Length"]) == len(reply.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.content)
    server.faults.update(malformed_json=False, truncated_body=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        _get(server, "/weight_sum?project_id=1")
    server.faults.update(truncated_body=False, drop_connection=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        _get(server, "/weight_sum?project_id=1")
    assert [r.outcome for r in server.requests_to("/weight_sum")] == ["malformed_json", "truncated_body", "dropped"]


def test_fault_scope_latency_and_down_ports(server: ApiSimulator) -> None:
    server.faults.update(fail_rate=1.0, fault_paths={"/weight_sum"}, fault_ports={server.ports[1]})
    assert _get(server, "/weight_sum?project_id=1", 0).status_code == 200
    assert _get(server, "/weight_sum?project_id=1", 1).status_code == 500
    assert _get(server, "/get_multi_data?project_id=1", 1).status_code == 200
    server.faults.reset()
    server.faults.latency_ms = 150
    started = time.monotonic()
    _get(server, "/health")
    assert time.monotonic() - started >= 0.15
    server.faults.update(latency_ms=0, down_ports={server.ports[0]})
    with pytest.raises(requests.exceptions.ConnectionError):
        _get(server, "/health", 0)
    assert _get(server, "/health", 1).status_code == 200
    with pytest.raises(AttributeError, match="unknown simulator fault"):
        server.faults.update(fail_ratio=0.5)


def test_fail_rate_is_seeded() -> None:
    def statuses(seed: int) -> list[int]:
        with ApiSimulator(tiny_tables(), secret_key=SECRET_KEY, api_key=API_KEY, seed=seed) as sim:
            sim.faults.fail_rate = 0.5
            return [_get(sim, "/weight_sum?project_id=1").status_code for _ in range(12)]

    first = statuses(5)
    assert first == statuses(5) and {200, 500} == set(first)


def test_cli_serves_until_stopped_with_fault_flags() -> None:
    stop = threading.Event()
    seen: dict[str, object] = {}

    def on_started(sim: ApiSimulator) -> None:
        seen["urls"] = sim.base_urls
        seen["health"] = [requests.get(u + "/health", timeout=3).status_code for u in sim.base_urls]
        token = requests.post(sim.base_urls[0] + "/auth/token", headers={"X-API-Key": "cli-key"}, timeout=3).json()
        seen["ttl"] = token["expires_in"]
        seen["fail_rate"] = sim.faults.fail_rate
        stop.set()

    loaded: list[object] = []

    def load(args: object) -> dict:
        loaded.append(args)
        return tiny_tables()

    code = simulator_main(
        ["--ports", "0,0", "--seed", "3", "--token-ttl", "120", "--fail-rate", "0.25"],
        load,
        stop_event=stop,
        on_started=on_started,
        env={"API_KEY": "cli-key"},
    )
    assert code == 0 and len(seen["urls"]) == 2 and seen["health"] == [200, 200]  # type: ignore[arg-type]
    assert seen["ttl"] == 120 and seen["fail_rate"] == 0.25
    assert loaded[0].seed == 3 and loaded[0].from_db is False
    assert simulator_main(["--ports", "0"], load, stop_event=stop, env={"DC_ENV": "prod"}) == 2
