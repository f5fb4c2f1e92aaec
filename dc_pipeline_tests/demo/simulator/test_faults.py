"""The simulator's fault switches at the HTTP level: statuses, broken bodies, scope, latency, seeding."""

from __future__ import annotations

import json
import time

import pytest
import requests

from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.api_helpers import API_KEY, SECRET_KEY, get, tiny_tables


def test_status_faults_count_down_and_carry_retry_after(server: ApiSimulator) -> None:
    server.faults.update(fail_next_n=2, fail_status=429, retry_after=7)
    first = get(server, "/get_multi_data?project_id=1")
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert get(server, "/get_multi_data?project_id=1").status_code == 429
    assert get(server, "/get_multi_data?project_id=1").status_code == 200
    assert get(server, "/health").status_code == 200 and server.faults.fail_next_n == 0


def test_body_faults_at_the_http_level(server: ApiSimulator) -> None:
    server.faults.malformed_json = True
    reply = get(server, "/weight_sum?project_id=1")
    assert reply.status_code == 200 and int(reply.headers["Content-Length"]) == len(reply.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.content)
    server.faults.update(malformed_json=False, truncated_body=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(server, "/weight_sum?project_id=1")
    server.faults.update(truncated_body=False, drop_connection=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        get(server, "/weight_sum?project_id=1")
    assert [r.outcome for r in server.requests_to("/weight_sum")] == ["malformed_json", "truncated_body", "dropped"]


def test_schema_violation_serves_valid_json_missing_its_first_field(server: ApiSimulator) -> None:
    server.faults.schema_violation = True
    body = get(server, "/weight_sum?project_id=1").json()
    assert "project_id" not in body and body["weight_sum"]["total"] == 7.0
    records = get(server, "/normalized/normalized_value?project_ids=1").json()
    assert "metricname" not in records[0] and all("metricname" in r for r in records[1:])
    assert get(server, "/health").json() == {"status": "ok"}  # data paths only
    assert {r.outcome for r in server.requests_to("/weight_sum")} == {"schema_violation"}


def test_fault_scope_latency_and_down_ports(server: ApiSimulator) -> None:
    server.faults.update(fail_rate=1.0, fault_paths={"/weight_sum"}, fault_ports={server.ports[1]})
    assert get(server, "/weight_sum?project_id=1", 0).status_code == 200
    assert get(server, "/weight_sum?project_id=1", 1).status_code == 500
    assert get(server, "/get_multi_data?project_id=1", 1).status_code == 200
    server.faults.reset()
    server.faults.latency_ms = 150
    started = time.monotonic()
    get(server, "/health")
    assert time.monotonic() - started >= 0.15
    server.faults.update(latency_ms=0, down_ports={server.ports[0]})
    with pytest.raises(requests.exceptions.ConnectionError):
        get(server, "/health", 0)
    assert get(server, "/health", 1).status_code == 200
    with pytest.raises(AttributeError, match="unknown simulator fault"):
        server.faults.update(fail_ratio=0.5)


def test_fail_rate_is_seeded() -> None:
    def statuses(seed: int) -> list[int]:
        with ApiSimulator(tiny_tables(), secret_key=SECRET_KEY, api_key=API_KEY, seed=seed) as sim:
            sim.faults.fail_rate = 0.5
            return [get(sim, "/weight_sum?project_id=1").status_code for _ in range(12)]

    first = statuses(5)
    assert first == statuses(5) and {200, 500} == set(first)
