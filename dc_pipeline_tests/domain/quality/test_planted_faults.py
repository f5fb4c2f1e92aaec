"""DQ finds every fault the demo generator plants in its faulty project (SPEC §12 table)."""

from __future__ import annotations

import pandas as pd
import pytest

from dc_pipeline.domain.quality import assess_project
from dc_pipeline.domain.settings import DqConfig

generator = pytest.importorskip("dc_pipeline.demo.generator")


@pytest.fixture(scope="module")
def faulty():
    demo = generator.generate(projects=4, periods=12)
    planted = demo.planted_faults
    t = demo.tables
    pid = planted["project_id"]
    of = lambda name: t[name][t[name]["project_id"] == pid].reset_index(drop=True)
    project = t["projects"].set_index("project_id").loc[pid].to_dict() | {"project_id": pid}
    as_of = pd.Timestamp(project["end_date"]) + pd.DateOffset(months=2)
    assessment = assess_project(
        project,
        of("metrics"),
        of("project_brands"),
        of("normalisedvalue"),
        of("business_outcomes"),
        DqConfig(),
        as_of,
        metric_owners=dict(zip(t["metrics"]["metric_id"], t["metrics"]["project_id"])),
    )
    return assessment, planted, of("normalisedvalue")


def failed(assessment, rule_id: str, brand_id=None) -> int:
    r = assessment.rule_results[assessment.rule_results["rule_id"] == rule_id]
    if brand_id is not None:
        r = r[(r["brand_id"] == brand_id).fillna(False)]
    return int(r["failed"].sum())


def q_rows(assessment, rule_id: str) -> int:
    return int((assessment.quarantine["rule_id"] == rule_id).sum())


def test_value_faults_are_counted_and_quarantined(faulty):
    a, planted, landed = faulty
    f = planted["faults"]
    assert failed(a, "V1") == f["out_of_range_values"]["count"] == q_rows(a, "V1")
    assert failed(a, "V2") == f["unknown_metric_rows"]["count"] == q_rows(a, "V2")
    n_exact, n_conflict = f["duplicate_exact"]["count"], f["duplicate_conflict"]["count"]
    assert failed(a, "U1") == n_exact + n_conflict
    assert q_rows(a, "U1") == n_exact + 2 * n_conflict
    n_values_q = int((a.quarantine["source_table"] == "normalisedvalue").sum())
    assert n_values_q == planted["expected_quarantined_rows"]
    assert len(a.validated_values) + n_values_q == len(landed) == planted["rows"]
    assert not a.is_blocked  # the quarantined share stays under 10 %


def test_missing_brand_periods_hit_t1_and_c1(faulty):
    a, planted, _ = faulty
    lost = planted["faults"]["brand_missing_last_periods"]
    t1 = a.rule_results[(a.rule_results["rule_id"] == "T1") & (a.rule_results["failed"] > 0)]
    assert len(t1) == lost["count"] and t1["brand_id"].tolist() == [lost["brand_id"]]
    assert failed(a, "C1", lost["brand_id"]) >= lost["rows_removed"]


def test_consistency_faults(faulty):
    a, planted, _ = faulty
    f = planted["faults"]
    assert failed(a, "K1") == f["section_mismatch"]["rows"]
    assert failed(a, "K2") == f["value_jumps"]["count"]
    assert failed(a, "K5") == f["market_share_over_100"]["count"]


def test_negative_revenue_is_nulled(faulty):
    a, planted, _ = faulty
    count = planted["faults"]["negative_revenue"]["count"]
    assert failed(a, "V5") == count
    assert int((a.quarantine["source_table"] == "business_outcomes").sum()) == count
    assert (a.validated_outcomes["revenue"].dropna() >= 0).all()


def test_faulty_project_scores_below_a_clean_one(faulty):
    a, _, _ = faulty
    assert 0.0 <= a.project_score < 1.0
    assert (a.dimension_scores.query("scope == 'project'").set_index("dimension")["score"] < 1.0).sum() >= 4
