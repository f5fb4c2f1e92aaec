"""Fault modes of the simulator against the client over real HTTP: every outcome is asserted
(recovered after N retries, failed over, circuit opened / half-open, failed with a message) and
every test runs in bounded time."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from dc_pipeline.adapters.api_client import (
    ApiAuthError,
    ApiClientError,
    ApiResponseInvalid,
    ApiUnavailable,
    ProcessRequestGate,
)
from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.api_helpers import API_KEY, SECRET_KEY, FakeClock, make_client, tiny_tables


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["status", "drop_connection", "truncated_body", "malformed_json"])
def test_recovers_after_two_transient_failures(sim: ApiSimulator, kind: str) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    sim.faults.update(fail_next_n=2, fail_kind=kind, fail_status=503)
    started = time.monotonic()
    assert client.weight_sum(1).weight_sum["total"] == pytest.approx(7.0)
    assert time.monotonic() - started < 3
    stats = client.stats()
    assert stats["retries"] == 2 and stats["requests"] == 4  # token + 3 tries
    # backoff: min(30, 0.01 * 2^k) * U(0.5, 1.5)
    assert 0.005 <= sleeps[0] <= 0.015 and 0.01 <= sleeps[1] <= 0.03
    outcomes = [r.outcome for r in sim.requests_to("/weight_sum")]
    assert outcomes[-1] == "ok" and len(outcomes) == 3


def test_429_waits_for_retry_after(sim: ApiSimulator) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    sim.faults.update(fail_next_n=1, fail_status=429, retry_after=0.5)
    client.weight_sum(1)
    assert sleeps == [0.5]  # Retry-After is larger than the 0.01 s backoff
    assert client.stats()["breaker_opens"] == 0


def test_gives_up_after_the_configured_retries_with_a_message_naming_everything(sim: ApiSimulator) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps, retry_attempts=3)
    sim.faults.update(fail_rate=1.0, fail_status=500)
    with pytest.raises(ApiUnavailable) as info:
        client.normalized_values(1)
    message = str(info.value)
    assert "service 'normalized'" in message
    assert "GET /normalized/normalized_value?project_ids=1" in message
    assert "failed after 4 attempts (3 retries)" in message
    assert "HTTP 500" in message and "simulated HTTP 500" in message
    assert all(url in message for url in sim.base_urls)  # failed over between both replicas
    assert len(sleeps) == 3 and info.value.attempts == 4


@pytest.mark.parametrize(("status", "error"), [(400, ApiClientError), (403, ApiAuthError), (422, ApiClientError)])
def test_other_4xx_are_not_retried(sim: ApiSimulator, status: int, error: type) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    sim.faults.update(fail_next_n=1, fail_status=status)
    with pytest.raises(error, match=f"HTTP {status}"):
        client.weight_sum(1)
    assert sleeps == [] and len(sim.requests_to("/weight_sum")) == 1


def test_read_timeout_is_retried_then_reported(sim: ApiSimulator) -> None:
    client = make_client(sim, timeout=0.15, retry_attempts=1)
    sim.faults.latency_ms = 600
    started = time.monotonic()
    with pytest.raises(ApiUnavailable, match="ReadTimeout") as info:
        client.weight_sum(1)
    assert time.monotonic() - started < 2.0
    assert info.value.attempts == 2


def test_malformed_json_fails_with_the_endpoint_and_field(sim: ApiSimulator) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    sim.faults.malformed_json = True
    with pytest.raises(ApiResponseInvalid) as info:
        client.project_meta(1)
    message = str(info.value)
    assert "service 'frontend' GET /api/v1/project/get-project/?project_id=1" in message
    assert "field <body>: not valid JSON" in message
    # retried like a truncated transfer before it is called invalid (issue 16 item 10)
    assert "failed after 4 attempts (3 retries)" in message and len(sleeps) == 3
    assert info.value.attempts == 4 and client.stats()["invalid_bodies"] == 4


@pytest.mark.parametrize(
    ("kind", "counter"), [("truncated_body", "transport_errors"), ("malformed_json", "invalid_bodies")]
)
def test_one_broken_body_is_retried_on_the_next_replica(sim: ApiSimulator, kind: str, counter: str) -> None:
    """A body cut short - announced (truncated) or not (malformed JSON) - is a broken transfer: the
    next replica is asked, and the pull succeeds as if nothing happened."""
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    sim.faults.update(fail_next_n=1, fail_kind=kind, fault_paths={"/weight_sum"})
    assert client.weight_sum(1).weight_sum["total"] == pytest.approx(7.0)
    served = sim.requests_to("/weight_sum")
    assert [r.outcome for r in served] == [kind, "ok"]
    assert served[0].port != served[1].port  # a retry moves to the next URL
    stats = client.stats()
    assert stats["retries"] == 1 and stats[counter] == 1 and len(sleeps) == 1


def test_schema_violation_is_not_retried(sim: ApiSimulator) -> None:
    """Valid JSON of the wrong shape is what the service says, not a broken transfer: one request,
    bad records become problem lines (DQ), a bad whole body raises naming the field."""
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    sim.faults.update(fail_next_n=1, fail_kind="schema_violation")
    pull = client.normalized_values_checked(1)
    assert pull.n_received == 24 and len(pull.records) == 23
    assert pull.problems == ["[0].metricname: Field required"]
    assert [r.outcome for r in sim.requests_to("/normalized/")] == ["schema_violation"]

    sim.faults.update(fail_next_n=1, fail_kind="schema_violation")
    with pytest.raises(
        ApiResponseInvalid, match=r"GET /weight_sum\?project_id=1: unexpected response shape: project_id"
    ):
        client.weight_sum(1)
    assert [r.outcome for r in sim.requests_to("/weight_sum")] == ["schema_violation"]
    assert sleeps == [] and client.stats()["retries"] == 0


@pytest.mark.parametrize(
    ("fault", "expected"), [("drop_connection", "ConnectionError"), ("truncated_body", "ChunkedEncodingError")]
)
def test_persistent_transport_faults_fail_with_the_cause(sim: ApiSimulator, fault: str, expected: str) -> None:
    client = make_client(sim, sleeps=[], retry_attempts=2)
    sim.faults.update(**{fault: True})
    with pytest.raises(ApiUnavailable, match=expected):
        client.insights(1)


def test_schema_violation_names_the_endpoint_and_field() -> None:
    tables = tiny_tables()
    metrics = tables["metrics"]
    metrics["metric_name"] = metrics["metric_name"].astype(object)
    metrics.loc[metrics["metric_id"] == 3, "metric_name"] = None  # served as null
    with ApiSimulator(tables, ports=(0,), secret_key=SECRET_KEY, api_key=API_KEY) as bad:
        client = make_client(bad)
        pull = client.normalized_values_checked(1)
        assert pull.n_received == 24 and len(pull.records) == 18 and len(pull.problems) == 6
        assert all(p.endswith("metricname: Input should be a valid string") for p in pull.problems)
        with pytest.raises(ApiResponseInvalid) as info:
            client.normalized_values(1)
        assert "service 'normalized' GET /normalized/normalized_value?project_ids=1" in str(info.value)
        assert "6 invalid field(s) in 24 records" in str(info.value)
        with pytest.raises(ApiResponseInvalid, match=r"metrics\[2\]\.metric_new_name"):
            client.project_meta(1)


def test_fails_over_from_a_down_port_and_a_refused_port(sim: ApiSimulator) -> None:
    dead = f"http://127.0.0.1:{_closed_port()}"
    client = make_client(sim, sleeps=[], base_urls=(dead, sim.base_urls[0], sim.base_urls[1]))
    sim.faults.down_ports = {sim.ports[0]}
    for _ in range(3):
        assert client.weight_sum(1).project_id == 1
    stats = client.stats()
    assert stats["failovers"] >= 2 and stats["transport_errors"] >= 2
    assert {r.outcome for r in sim.requests_to("/weight_sum", port=sim.ports[0])} == {"port down"}
    assert len(sim.requests_to("/weight_sum", port=sim.ports[1])) == 3


def test_circuit_opens_after_five_failures_then_half_open_probe_closes_it(sim: ApiSimulator) -> None:
    clock = FakeClock()
    client = make_client(sim, sleeps=[], clock=clock, breaker_cooldown_s=30)
    down = sim.ports[0]
    sim.faults.down_ports = {down}
    for _ in range(10):
        client.weight_sum(1)
    breaker = client.breaker(sim.base_urls[0])
    assert breaker.state == "open" and breaker.opens == 1
    # five consecutive failures (the token fetch and four data calls), then nothing reaches it
    assert len(sim.requests_to("/", port=down)) == 5
    client.weight_sum(1)
    assert len(sim.requests_to("/", port=down)) == 5

    clock.advance(30)
    assert breaker.state == "half_open"
    sim.faults.down_ports = set()
    for _ in range(2):
        client.weight_sum(1)
    assert breaker.state == "closed" and breaker.half_opens == 1
    assert len(sim.requests_to("/", port=down)) == 6  # exactly one probe, now ok
    assert client.stats()["breaker_opens"] == 1


def test_failed_half_open_probe_reopens_the_circuit(sim: ApiSimulator) -> None:
    clock = FakeClock()
    client = make_client(sim, sleeps=[], clock=clock, breaker_failure_threshold=2, breaker_cooldown_s=0.2)
    sim.faults.down_ports = {sim.ports[0]}
    for _ in range(4):
        client.weight_sum(1)
    breaker = client.breaker(sim.base_urls[0])
    assert breaker.state == "open"
    clock.advance(0.2)
    for _ in range(2):
        client.weight_sum(1)
    assert breaker.state == "open" and breaker.opens == 2 and breaker.half_opens == 1


def test_all_circuits_open_raises_without_calling(sim: ApiSimulator) -> None:
    client = make_client(sim, sleeps=[], clock=FakeClock(), breaker_failure_threshold=2)
    sim.faults.down_ports = set(sim.ports)
    with pytest.raises(ApiUnavailable, match="failed after 4 attempts"):
        client.weight_sum(1)
    seen = len(sim.requests_to("/weight_sum"))
    with pytest.raises(ApiUnavailable, match="all circuits open") as info:
        client.weight_sum(1)
    assert len(sim.requests_to("/weight_sum")) == seen
    assert "service 'weight_sum' GET /weight_sum?project_id=1" in str(info.value)


def test_requests_in_flight_never_exceed_the_process_limit(sim: ApiSimulator) -> None:
    gate = ProcessRequestGate()
    clients = [make_client(sim, gate=gate, max_concurrent_requests=2) for _ in range(2)]
    for c in clients:
        c.weight_sum(1)  # fetch tokens before the burst
    sim.faults.latency_ms = 80
    sim.peak_in_flight = 0
    errors: list[BaseException] = []

    def pull(index: int) -> None:
        try:
            clients[index % 2].weight_sum(2)
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=pull, args=(i,)) for i in range(6)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert errors == []
    assert sim.peak_in_flight <= 2
    assert max(c.stats()["peak_in_flight"] for c in clients) <= 2
    assert time.monotonic() - started >= 3 * 0.08  # six 80 ms calls, two at a time
