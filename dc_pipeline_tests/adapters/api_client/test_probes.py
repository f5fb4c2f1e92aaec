"""Endpoint discovery and the connectivity test tell 'up', 'missing' and 'down' apart."""

from __future__ import annotations

import socket

from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.api_helpers import make_client


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_connectivity_up_down_and_missing(sim: ApiSimulator) -> None:
    dead = _closed_port_url()
    client = make_client(sim, base_urls=(*sim.base_urls, dead))
    sim.faults.down_ports = {sim.ports[1]}
    report = client.test_connectivity()
    by_url = {e.base_url: e for e in report.endpoints}
    assert by_url[sim.base_urls[0]].status == "up" and by_url[sim.base_urls[0]].http_status == 200
    assert by_url[sim.base_urls[1]].status == "down" and by_url[sim.base_urls[1]].http_status is None
    assert by_url[dead].status == "down" and "ConnectionError" in by_url[dead].detail
    assert not report.ok and report.summary().startswith("1 up, 0 missing, 2 down")

    sim.faults.down_ports = set()
    sim.faults.missing_paths = {"/health"}
    report = client.test_connectivity()
    assert [e.status for e in report.endpoints][:2] == ["missing", "missing"]


def test_health_counts_only_200(sim: ApiSimulator) -> None:
    client = make_client(sim)
    assert client.health(sim.base_urls[0]).status == "up"
    for status in (503, 204):
        sim.faults.health_status = status
        probe = client.health(sim.base_urls[0])
        assert (probe.status, probe.http_status) == ("down", status)


def test_discovery_reports_missing_paths_and_skips_brand_without_id(sim: ApiSimulator) -> None:
    client = make_client(sim)
    sim.faults.missing_paths = {"/get_analytics"}
    found = client.discover_endpoints(project_id=1)
    states = {(e.path, e.base_url): e.status for e in found}
    for base in sim.base_urls:
        assert states[("/normalized/normalized_value", base)] == "up"
        assert states[("/get_analytics", base)] == "missing"
        assert states[("/analytics/metrics", base)] == "up"
        assert states[("/brands/{brand_id}/project_id/{project_id}", base)] == "skipped"
    with_brand = client.discover_endpoints(project_id=1, brand_id=2)
    assert {e.status for e in with_brand if e.service == "brand_data"} == {"up"}
    # probes are diagnostic: they never retry and never move a breaker
    assert client.stats()["retries"] == 0 and client.stats()["breaker_opens"] == 0


def test_discovery_marks_a_5xx_service_down(sim: ApiSimulator) -> None:
    client = make_client(sim)
    sim.faults.update(fail_rate=1.0, fail_status=503, fault_paths={"/weight_sum"})
    found = client.discover_endpoints(project_id=1, brand_id=1)
    assert {e.status for e in found if e.path == "/weight_sum"} == {"down"}
    assert {e.status for e in found if e.path == "/get_multi_data"} == {"up"}
