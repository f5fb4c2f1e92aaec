"""The simulator's bodies are built from the tables: names joined in, drift seeded, overrides exact."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline.domain.source_tables import SOURCE_COLUMNS
from dc_pipeline_tests.api_helpers import API_KEY, SECRET_KEY, get, tiny_tables


def test_tiny_tables_follow_the_source_contract() -> None:
    tables = tiny_tables()
    for name, frame in tables.items():
        assert set(SOURCE_COLUMNS[name]) <= set(frame.columns), name
    assert len(tables["normalisedvalue"]) == 4 * 2 * 3 + 4 * 1 * 1


def test_normalized_body_is_built_from_the_tables() -> None:
    tables = tiny_tables()
    nv = tables["normalisedvalue"]
    stray = nv.iloc[[0]].assign(id=999, metric_id=4242)  # a metric the API cannot name (V2 fault)
    tables["normalisedvalue"] = pd.concat([nv, stray], ignore_index=True)
    with ApiSimulator(tables, secret_key=SECRET_KEY, api_key=API_KEY) as sim:
        body = get(sim, "/normalized/normalized_value?project_ids=1").json()
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
        both = get(sim, "/normalized/normalized_value?project_ids=1,2").json()
        assert len(both) == 28
        assert get(sim, "/normalized/normalized_value?project_ids=9").status_code == 404
        assert get(sim, "/normalized/normalized_value").status_code == 400
        assert get(sim, "/weight_sum?project_id=x").status_code == 400
        meta = get(sim, "/api/v1/project/get-project/?project_id=1").json()["project"]
        assert meta["platforms"] == ["Amazon", "Instagram", "Meta Ads", "YouTube"]
        assert get(sim, "/brands/2/project_id/2").json()["error"] == "brand 2 is not a member of project 2"


def test_drift_is_seeded_and_perturbs_about_the_requested_share(server: ApiSimulator) -> None:
    clean = get(server, "/brands/1/project_id/1").json()["business_outcomes"]
    server.faults.drift = 0.5
    drifted = get(server, "/brands/1/project_id/1").json()["business_outcomes"]
    again = get(server, "/brands/1/project_id/1", 1).json()["business_outcomes"]
    assert drifted == again  # same seed, same perturbation on every replica
    cells = [(c[k], d[k]) for c, d in zip(clean, drifted, strict=True) for k in c if k != "period"]
    changed = [abs(d / c - 1) for c, d in cells if c != d]
    assert 0.25 <= len(changed) / len(cells) <= 0.75 and all(0.1 <= x <= 0.3 + 1e-9 for x in changed)

    values = get(server, "/normalized/normalized_value?project_ids=1").json()
    assert all(0 <= r["normalized"] <= 100 for r in values)
    server.faults.drift_seed = 12
    other = get(server, "/normalized/normalized_value?project_ids=1").json()
    assert [r["normalized"] for r in other] != [r["normalized"] for r in values]


def test_value_override_changes_one_record_and_its_updated_at(server: ApiSimulator) -> None:
    before = get(server, "/normalized/normalized_value?project_ids=1").json()
    server.set_value_override(1, 2, 4, "2024-03-01", 12.5)
    after = get(server, "/normalized/normalized_value?project_ids=1").json()
    diff = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(diff) == 1
    old, new = diff[0]
    assert (new["brand_id"], new["metric_id"], new["period"], new["normalized"]) == (2, 4, "2024-03-01", 12.5)
    assert new["updated_at"] > old["updated_at"]
    server.clear_value_overrides()
    assert get(server, "/normalized/normalized_value?project_ids=1").json() == before
