"""DigiCadenceClient against the simulator over real HTTP: parsed endpoints, routing, cache."""

from __future__ import annotations

import json
from datetime import date

import pytest

from dc_pipeline.adapters.api_cache import LruTtlCache
from dc_pipeline.adapters.api_client import ApiNotFound, DigiCadenceClient
from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.api_helpers import make_client, tiny_tables


def test_normalized_values_match_the_source_rows(sim: ApiSimulator) -> None:
    client = make_client(sim)
    records = client.normalized_values(1)
    nv = tiny_tables()["normalisedvalue"]
    expected = nv[nv["project_id"] == 1]
    assert len(records) == len(expected) == 24
    got = {(r.brand_id, r.metric_id, r.period): r.normalized for r in records}
    for row in expected.itertuples():
        assert got[(row.brand_id, row.metric_id, row.period.date())] == pytest.approx(row.normalized_value)
    first = next(r for r in records if r.metric_id == 2 and r.brand_id == 1 and r.period == date(2024, 1, 1))
    assert (first.metricname, first.sectionName, first.platformname, first.brandName) == (
        "cpc",
        "Digital Spends",
        "Meta Ads",
        "TechPhone",
    )


def test_project_meta_weight_sum_brand_data_insights_and_analytics(sim: ApiSimulator) -> None:
    client = make_client(sim)
    meta = client.project_meta(2)
    assert meta.project_id == 2 and [m.metric_id for m in meta.metrics] == [5, 6, 7, 8]
    assert {m.metric_new_name: m.weights for m in meta.metrics}["organic_traffic"] == 2.0

    weights = client.weight_sum(1)
    assert weights.weight_sum["total"] == pytest.approx(1.0 + 1.5 + 2.0 + 2.5)
    assert weights.weight_sum["Socialwatch"] == pytest.approx(2.5)

    brand = client.brand_data(2, 1)
    assert (brand.brand_name, brand.role, brand.category.category_name) == (
        "TechLaptop",
        "competitor",
        "Consumer Electronics",
    )
    assert [o.period for o in brand.business_outcomes] == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert brand.business_outcomes[2].revenue == pytest.approx(100 + 20 + 2)

    raw, digest = client.insights(1)
    body = json.loads(raw)
    assert body["n_records"] == 24 and len(digest) == 64
    # TechPhone, latest period 2024-03, Marketplace metric 1: 60 + 5 + 1 + 2*2
    phone = next(b for b in body["brands"] if b["brandName"] == "TechPhone")
    assert phone["section_means"]["Marketplace"] == pytest.approx(70.0)

    analytics = client.analytics(1)
    assert analytics.path == "/analytics/metrics" and analytics.not_found == ()
    assert len(json.loads(analytics.raw_json)["metrics"]) == 4


def test_analytics_falls_back_through_the_three_paths(sim: ApiSimulator) -> None:
    client = make_client(sim)
    sim.faults.missing_paths = {"/analytics/metrics", "/get_analytics"}
    result = client.analytics(1)
    assert result.path == "/analytics" and result.not_found == ("/analytics/metrics", "/get_analytics")
    sim.faults.missing_paths = {"/analytics", "/get_analytics"}  # "/analytics" is a prefix of both others
    with pytest.raises(ApiNotFound, match="all three paths answered HTTP 404"):
        client.analytics(1)


def test_unknown_resource_is_a_404_without_retry(sim: ApiSimulator) -> None:
    sleeps: list[float] = []
    client = make_client(sim, sleeps=sleeps)
    with pytest.raises(ApiNotFound) as info:
        client.brand_data(2, 2)
    assert "brand 2 is not a member of project 2" in str(info.value)
    assert "/brands/2/project_id/2" in str(info.value) and info.value.service == "brand_data"
    assert sleeps == [] and client.stats()["retries"] == 0


def test_service_ports_route_each_service_to_its_port(sim: ApiSimulator) -> None:
    first, second = sim.ports
    client = make_client(sim, base_urls=(f"http://127.0.0.1:{first}",), service_ports={"normalized": second})
    assert client.urls_for("normalized") == (f"http://127.0.0.1:{second}",)
    assert client.urls_for("weight_sum") == (f"http://127.0.0.1:{first}",)
    client.normalized_values(2)
    client.weight_sum(2)
    assert len(sim.requests_to("/normalized", port=second)) == 1
    assert sim.requests_to("/normalized", port=first) == []
    assert len(sim.requests_to("/weight_sum", port=first)) == 1


def test_cache_reuses_bodies_until_force_refresh(sim: ApiSimulator) -> None:
    client = DigiCadenceClient(make_client(sim).settings, cache=LruTtlCache(max_size=10, ttl_s=60))
    first = client.weight_sum(1)
    again = client.weight_sum(1)
    assert first == again
    assert len(sim.requests_to("/weight_sum")) == 1 and client.stats()["cache_hits"] == 1
    client.weight_sum(1, force_refresh=True)
    assert len(sim.requests_to("/weight_sum")) == 2


def test_round_robin_spreads_requests_over_replicas(sim: ApiSimulator) -> None:
    client = make_client(sim)
    for _ in range(4):
        client.weight_sum(1)
    per_port = [len(sim.requests_to("/weight_sum", port=p)) for p in sim.ports]
    assert per_port == [2, 2]
