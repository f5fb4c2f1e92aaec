"""Reports 17-22 (predictive) on a demo project with every model output built in memory, and on synthetic
series: the numbers are checked against the stored inputs and independent calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dc_pipeline.domain.reports.blocks.risk import quantile_cdf, var_es
from dc_pipeline.domain.reports.catalog import REPORTS
from dc_pipeline.domain.reports.envelope import check_envelope_schema, check_insights_cite_numbers
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import BUILDER_MODULES, builder_for
from dc_pipeline_tests.domain.reports.conftest import noisy, synthetic_data

PREDICTIVE_AND_EXECUTIVE = [s.report_id for s in REPORTS if s.number >= 17]
LEVELS = [0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995]


def _build(report_id, data, **params):
    return build_report(builder_for(report_id), data, ReportParams(**params))


def test_registry_holds_reports_17_to_25():
    assert set(PREDICTIVE_AND_EXECUTIVE) <= set(BUILDER_MODULES)


@pytest.mark.parametrize("report_id", PREDICTIVE_AND_EXECUTIVE)
@pytest.mark.parametrize("depth", ["basic", "detailed"])
def test_demo_project_reports_pass_envelope_and_citation_checks(demo_p102, report_id, depth):
    env = _build(report_id, demo_p102, analysis_depth=depth)
    assert check_envelope_schema(env) == [] and check_insights_cite_numbers(env) == []
    assert env["health"]["status"] in ("PASS", "REVIEW")
    assert env["key_insights"], f"{report_id} at {depth} has no insight"
    assert len(env["key_insights"]) <= {"basic": 3, "detailed": 10}[depth]
    blocks = env["analysis"].values()
    assert all(b["status"] != "ok" or b.get("reason") is None for b in blocks)


@pytest.mark.parametrize(
    "report_id", ["performance_forecasting_analysis", "trend_prediction_analysis", "growth_trajectory_modeling"]
)
def test_minimum_unmet_is_fail_with_reasons(techcorp_p2_models, report_id):
    env = _build(report_id, techcorp_p2_models)
    assert env["health"]["status"] == "FAIL"
    assert any("insufficient history: 2 periods" in r["message"] for r in env["health"]["reasons"])
    assert all(b["status"] in ("insufficient_data", "skipped_by_depth") for b in env["analysis"].values())
    assert check_envelope_schema(env) == []


def test_forecast_report_quotes_the_stored_quantiles_backtest_and_coverage(demo_p102):
    env = _build("performance_forecasting_analysis", demo_p102, forecast_horizon=6, confidence_level=0.9)
    stored_q = demo_p102.forecasts["brand_forecasts"]
    summaries = demo_p102.forecasts["brand_forecast_summaries"]
    brand = env["analysis"]["forecasts"]["brands"]["13"]["series"]["dc"]
    own = stored_q[(stored_q["brand_id"] == 13) & (stored_q["series"] == "dc")].sort_values("horizon").head(6)
    assert [r["median"] for r in brand["forecast"]] == pytest.approx(list(own["q0.5"]))
    assert [r["low"] for r in brand["forecast"]] == pytest.approx(list(own["q0.05"]))  # 90 % interval
    assert [r["high_80"] for r in brand["forecast"]] == pytest.approx(list(own["q0.9"]))
    row = summaries[(summaries["brand_id"] == 13) & (summaries["series"] == "dc")].iloc[0]
    assert brand["rel_mase"] == pytest.approx(row["rel_mase"]) and brand["tier"] == row["tier"] == "ets"
    # 12 periods leave too few out-of-sample points to measure coverage: stored as null, quoted as None
    assert brand["coverage"]["80"]["observed"] == (
        None if row["coverage_80"] is None or math.isnan(row["coverage_80"]) else pytest.approx(row["coverage_80"])
    )
    panel = demo_p102.scores.brands
    history = panel[(panel["brand_id"] == 13) & (panel["project_id"] == 102)].sort_values("period")["dc_score"]
    assert brand["seasonal_naive"] == pytest.approx([history.iloc[-1]] * 6)  # 12 months <= one season: lag 1
    fan = env["visualizations"]["fan_13"]["figure"]
    assert fan["median"] == [r["median"] for r in brand["forecast"]] and len(fan["history"]) == 12


def test_trend_labels_need_both_tests_after_holm_and_flat_noise_has_none():
    rng = np.random.default_rng(7)
    data = synthetic_data({"Up": noisy(rng, 70, 0.4, 1.0, 24), "Flat": noisy(rng, 75, 0.0, 1.0, 24)})
    env = _build("trend_prediction_analysis", data)
    up = env["analysis"]["trends"]["brands"]["1"]["series"]["dc"]
    flat = env["analysis"]["trends"]["brands"]["2"]["series"]["dc"]
    assert up["label"] == "strong_rising" and flat["label"] == "no_clear_trend"
    assert up["ols"]["p_holm"] >= up["ols"]["p"] and up["mann_kendall"]["p_holm"] >= up["mann_kendall"]["p"]
    assert env["analysis"]["trends"]["n_series_tested"] == 10
    assert up["projection"]["value"] == pytest.approx(up["sen"]["intercept"] + up["sen"]["slope"] * (23 + 12))
    assert check_insights_cite_numbers(env) == []


def test_trend_report_marks_a_planted_change_point():
    rng = np.random.default_rng(8)
    stepped = list(np.r_[np.full(14, 72.0), np.full(10, 80.0)] + rng.normal(0, 0.8, 24))
    env = _build("trend_prediction_analysis", synthetic_data({"Step": stepped, "Other": noisy(rng, 70, 0.0, 1.0, 24)}))
    cps = env["analysis"]["trends"]["brands"]["1"]["series"]["dc"]["change_points"]["change_points"]
    assert [c["period"] for c in cps] == ["2023-03-01"]
    assert env["visualizations"]["trend_1"]["figure"]["markers"] == ["2023-03-01"]
    assert any("shifted by +" in i["text"] and "2023-03-01" in i["text"] for i in env["key_insights"])


def test_risk_var_es_and_tier_probability_come_from_the_panel_and_stored_quantiles(demo_p102):
    env = _build("risk_assessment_analysis", demo_p102)
    key = next(iter(env["analysis"]["volatility"]["brands"]))
    vol = env["analysis"]["volatility"]["brands"][key]
    dc = demo_p102.scores.brands
    own = dc[(dc["brand_id"] == int(key)) & (dc["project_id"] == 102)].sort_values("period")["dc_score"].to_numpy()
    expected = var_es(np.diff(own), 0.05)
    assert vol["var"] == pytest.approx(-np.sort(np.diff(own))[0]) == pytest.approx(expected["var"])
    assert vol["max_drawdown"] == pytest.approx(np.max(np.maximum.accumulate(own) - own))
    tier = env["analysis"]["tier_risk"]["brands"][key]
    q = demo_p102.forecasts["brand_forecasts"]
    last = q[(q["brand_id"] == int(key)) & (q["series"] == "dc") & (q["horizon"] == 12)].iloc[0]
    assert tier["status"] == "ok"
    values = [last[f"q{lv:g}"] for lv in LEVELS]
    assert tier["p"] == pytest.approx(quantile_cdf(LEVELS, values, tier["floor"]))
    assert tier["floor"] == (80.0 if own[-1] >= 80 else 60.0)


def test_scenario_probabilities_match_the_closed_form_and_plan_and_shocks_are_exact(demo_p102):
    env = _build("scenario_planning_analysis", demo_p102)
    sc = env["analysis"]["scenarios"]
    assert sc["n_draws"] == 2000
    checked = 0
    for b in sc["brands"].values():
        pr = b["probabilities"]
        if pr.get("status") != "ok":
            continue
        for name in ("baseline", "plan", "shock_Marketplace"):
            for target in (80, 90):
                got, closed = pr[name][f"p_{target}"], pr[name][f"p_{target}_closed_form"]
                assert abs(got - closed) <= 4 * math.sqrt(max(closed * (1 - closed), 1e-4) / 2000) + 1e-12
                checked += 1
        assert b["plan"][-1] == pytest.approx(min(100.0, b["baseline"][-1] + b["knee_delta_dc"]))
        assert b["plan"][0] == pytest.approx(min(100.0, b["baseline"][0] + b["knee_delta_dc"] / len(b["baseline"])))
    assert checked >= 6
    m = demo_p102.scores.metrics
    key = next(iter(sc["brands"]))
    latest = m[(m["brand_id"] == int(key)) & (m["project_id"] == 102)]
    latest = latest[latest["period"] == latest["period"].max()]
    e_social = latest.loc[latest["section_name"] == "Socialwatch", "effective_weight"].sum()
    shock = env["analysis"]["section_shocks"]["brands"][key]["sections"]["Socialwatch"]["delta_dc"]
    assert shock == pytest.approx(-10 * e_social)


def test_growth_picks_a_logistic_path_and_times_targets_with_a_bootstrap_interval():
    t = np.arange(30)
    rng = np.random.default_rng(9)
    saturating = list(92 / (1 + np.exp(-0.25 * (t - 8))) + rng.normal(0, 0.6, 30))
    linear = list(62 + 0.5 * t + rng.normal(0, 0.6, 30))
    env = _build("growth_trajectory_modeling", synthetic_data({"Sat": saturating, "Lin": linear}))
    sat, lin = (env["analysis"]["trajectories"]["brands"][k] for k in ("1", "2"))
    assert sat["chosen"] == "logistic" and lin["chosen"] != "logistic"
    assert sat["time_to"]["90"]["periods"] == 0.0 or sat["time_to"]["90"]["ci_low"] is not None
    tt = lin["time_to"]["80"]
    assert tt["ci_low"] <= tt["periods"] <= tt["ci_high"] and tt["reps"] == 500
    d = env["analysis"]["decomposition"]
    assert sum(d["section_deltas"].values()) == pytest.approx(d["delta_dc"])
    assert d["delta_dc"] == pytest.approx((saturating[-1] + linear[-1] - saturating[0] - linear[0]) / 2)
