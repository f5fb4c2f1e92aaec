"""Reports 20 and 23-25 (opportunities, executive dashboard, strategic planning, investment priority): figures
against the SPEC §4 TechCorp numbers, independent calculations and the stored inputs."""

from __future__ import annotations

import numpy as np
import pytest

from dc_pipeline.domain.recommendations.effort import effort
from dc_pipeline.domain.reports.envelope import check_envelope_schema, check_insights_cite_numbers
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import builder_for
from dc_pipeline_tests.domain.reports.conftest import synthetic_data


def _build(report_id, data, **params):
    env = build_report(builder_for(report_id), data, ReportParams(**params))
    assert check_envelope_schema(env) == [] and check_insights_cite_numbers(env) == []
    return env


def test_dashboard_tiles_are_the_techcorp_figures_with_n_and_period(techcorp_p2_models):
    env = _build("executive_performance_dashboard", techcorp_p2_models)
    tiles = env["analysis"]["kpi_tiles"]["tiles"]
    assert tiles["dc_mean"] == {"status": "ok", "value": pytest.approx(81.6), "n": 3, "period": "2024-04-01"}
    assert tiles["dc_change"]["value"] == pytest.approx(81.6 - 78.633333, abs=1e-5)
    assert tiles["revenue_total"]["value"] == pytest.approx(50_200_000)
    assert tiles["revenue_growth"]["value"] == pytest.approx(50.2 / 45.5 - 1) and tiles["revenue_growth"]["n"] == 3
    weighted = np.average([81.2, 87.8, 75.8], weights=[16.5, 24.5, 9.2])
    assert tiles["dc_revenue_weighted"]["value"] == pytest.approx(weighted, abs=0.051)  # DCs shown to 1 decimal
    assert (tiles["tier_high"]["value"], tiles["tier_medium"]["value"]) == (2, 1)
    assert tiles["ltv_cac"] == {"status": "missing_input", "value": None,
                                "reason": "not available: customer_lifetime_value absent"}  # fmt: skip
    cards = env["analysis"]["scorecards"]["brands"]
    assert [c["grade"] for c in cards.values()] == ["Good", "Good", "Average"]  # 87.8, 81.2, 75.8
    assert cards["3"]["trend"] == "up" and cards["3"]["change"] == pytest.approx(75.8 - 72.1, abs=0.051)
    assert cards["2"]["bottom_section"] == "Digital Spends" and cards["2"]["top_section"] == "Marketplace"
    labels = [k["label"] for k in env["kpis"]]
    assert "Portfolio DC (mean)" in labels and "LTV:CAC" not in labels  # a tile without input shows no number


def test_dashboard_alerts_a_tier_drop():
    data = synthetic_data({"Falling": [84.0, 83.0, 82.0, 78.0], "Steady": [70.0, 70.5, 70.2, 70.4]})
    env = _build("executive_performance_dashboard", data)
    alerts = env["analysis"]["alerts"]["alerts"]
    assert alerts == [{"kind": "tier_drop", "brand_name": "Falling", "from": "high", "to": "medium",
                       "period": "2022-04-01"}]  # fmt: skip
    assert "Alert: Falling dropped from the high to the medium tier in 2022-04-01." in [
        i["text"] for i in env["key_insights"]
    ]


def test_opportunities_close_gaps_to_the_cohort_best_with_the_spec_effort(demo_p102):
    env = _build("opportunity_identification_analysis", demo_p102)
    o = env["analysis"]["opportunities"]
    top = o["top_by_ratio"][0]
    assert top["delta"] == pytest.approx(top["best"] - top["current"])
    cost = demo_p102.metrics.set_index("metric_id").loc[top["metric_id"], "effort_cost"]
    assert top["effort"] == pytest.approx(float(effort(top["current"], top["delta"], cost, top["best"])))
    assert top["ratio"] == pytest.approx(top["gain"] / top["effort"])
    assert all(q["delta"] <= 10 and q["ratio"] >= o["quick_win_ratio_cut"] for q in o["quick_wins"])
    ratios = [r["ratio"] for r in o["top_by_ratio"]]
    assert ratios == sorted(ratios, reverse=True)
    for t in env["analysis"]["transfers"]["transfers"]:
        assert t["gap"] >= 15 and t["leader_score"] - t["current"] == pytest.approx(t["gap"])


def test_strategic_matrix_uses_quartiles_and_initiatives_come_from_stored_plans(demo_p102):
    env = _build("strategic_planning_insights", demo_p102)
    s = env["analysis"]["swot"]
    panel = demo_p102.scores.sections
    latest = panel[(panel["project_id"] == 102) & (panel["period"] == panel["period"].max())]
    assert s["section_p75"] == pytest.approx(np.percentile(latest["section_score"], 75))
    assert all(x["score"] >= s["section_p75"] for x in s["strengths"]["sections"])
    assert all(x["score"] <= s["section_p25"] for x in s["weaknesses"]["sections"])
    plans = demo_p102.recommendations["brand_recommendation_plans"]
    for key, b in env["analysis"]["initiatives"]["brands"].items():
        own = plans[plans["brand_id"] == int(key)]
        assert b["medium"]["delta_dc"] == pytest.approx(own.loc[own["is_knee"].astype(bool), "delta_dc"].iloc[0])
        assert b["long"]["delta_dc"] == pytest.approx(own["delta_dc"].max())
    assert env["strategic_recommendations"][0]["expected_delta_dc"] > 0


def test_investment_priority_is_the_marginal_section_rate_and_says_why_no_npv(demo_p102):
    env = _build("investment_priority_analysis", demo_p102)
    p = env["analysis"]["priorities"]
    first = p["ranked"][0]
    m = demo_p102.scores.metrics
    own = m[(m["project_id"] == 102) & (m["brand_id"] == first["brand_id"])]
    own = own[(own["period"] == own["period"].max()) & (own["section_name"] == first["section"])]
    costs = demo_p102.metrics.set_index("metric_id")["effort_cost"]
    best = (
        m[(m["project_id"] == 102) & (m["period"] == own["period"].iloc[0])]
        .groupby("metric_id")["directed_score"]
        .max()
    )
    step = np.minimum(1.0, 100 - own["directed_score"])
    e = effort(
        own["directed_score"], step, costs.loc[own["metric_id"]].to_numpy(), best.loc[own["metric_id"]].to_numpy()
    )
    assert first["delta_dc"] == pytest.approx((own["effective_weight"] * step).sum())
    assert first["dc_per_effort"] == pytest.approx(first["delta_dc"] / e.sum())
    assert env["analysis"]["npv_payback"]["status"] == "missing_input"
    assert "no currency cost of an effort unit" in env["analysis"]["npv_payback"]["reason"]
    allocation = env["analysis"]["allocation"]  # the stored portfolio_analysis allocation, as stored
    stored = demo_p102.portfolio["portfolio_allocation"].sort_values("brand_id")
    assert allocation["status"] == "ok"
    assert [b["effort"] for b in allocation["brands"]] == pytest.approx(stored["effort"].fillna(0).tolist())
    assert any("NPV and payback are not produced" in i["text"] for i in _build(
        "investment_priority_analysis", demo_p102, analysis_depth="detailed")["key_insights"])  # fmt: skip
    s = env["analysis"]["spend_efficiency"]
    assert s["status"] == "ok" and s["n_pairs"] > 0
