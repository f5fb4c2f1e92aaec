"""Reports 9-16 against independent calculations on small hand-made cohorts, with stored plans, models and
portfolio tables built by hand (stored_inputs.py)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dc_pipeline.domain.reports.envelope import check_envelope_schema, check_insights_cite_numbers
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import builder_for
from dc_pipeline.domain.reports.render import render_html, render_markdown
from dc_pipeline_tests.domain.reports.builders.stored_inputs import model_row, recommendations, with_portfolio
from dc_pipeline_tests.domain.reports.conftest import noisy, synthetic_data

BUSINESS = (
    "revenue_impact_optimization",
    "market_position_enhancement",
    "customer_lifetime_value_enhancement",
    "conversion_rate_optimization",
    "roi_maximization_strategy",
    "competitive_advantage_analysis",
    "market_penetration_strategy",
    "brand_portfolio_optimization",
)
SHARES = [40.0, 30.0, 15.0, 10.0, 5.0]  # latest-period market shares of brands 1..5
FRONTS = {b: [(1.0 + b / 10, 4.0), (3.0, 10.0), (4.0, 20.0)] for b in range(1, 6)}


def _cohort(n: int = 12):
    rng = np.random.default_rng(7)
    names = [f"B{i}" for i in range(1, 6)]
    dc = {name: noisy(rng, 70 + 3 * i, 0.2, 1.0, n) for i, name in enumerate(names)}
    revenue = {k: list(5e6 * 1.03 ** (np.array(v) - 80)) for k, v in dc.items()}
    # Share follows the brand's DC relative to the cohort (0.4 pp per point), ending exactly at SHARES.
    relative = np.array(list(dc.values())) - np.mean(list(dc.values()), axis=0)
    shares = {k: list(s + 0.4 * (relative[i] - relative[i][-1])) for i, (k, s) in enumerate(zip(names, SHARES))}
    outcomes = {
        "revenue": revenue,
        "market_share": shares,
        "customer_lifetime_value": {
            k: list(900 + 25 * (np.array(v) - 70) + rng.normal(0, 5, n)) for k, v in dc.items()
        },
        "customer_acquisition_cost": {k: list(60 - 0.5 * (np.array(v) - 70)) for k, v in dc.items()},
        "conversion_rate": {k: list(2 + 0.08 * (np.array(v) - 70) + rng.normal(0, 0.05, n)) for k, v in dc.items()},
        "marketing_spend": {k: list(np.array(r) * (0.08 + 0.01 * i)) for i, (k, r) in enumerate(revenue.items())},
        "sales_units": {k: list(np.array(r) / 250) for k, r in revenue.items()},
    }
    data = synthetic_data(dc, outcomes=outcomes)
    period = data.scores.brands["period"].max()
    models = pd.DataFrame(
        [
            model_row(9, "revenue", 150_000.0, 100_000.0, 200_000.0),
            model_row(9, "customer_lifetime_value", 25.0, 20.0, 30.0),
        ]
    )
    return with_portfolio(data, recommendations(9, period, FRONTS), models)


@pytest.fixture(scope="module")
def cohort():
    return _cohort()


def _report(report_id: str, data, depth: str = "standard") -> dict:
    env = build_report(builder_for(report_id), data, ReportParams(analysis_depth=depth))
    assert check_envelope_schema(env) == [] and check_insights_cite_numbers(env) == []
    return env


@pytest.mark.parametrize("report_id", BUSINESS)
@pytest.mark.parametrize("depth", ["basic", "standard", "detailed"])
def test_every_business_report_passes_the_checks_and_renders(cohort, report_id, depth):
    env = _report(report_id, cohort, depth)
    assert env["health"]["status"] != "FAIL"
    assert env["key_insights"], report_id
    html, md = render_html(env), render_markdown(env)
    assert "<svg" in html and env["title"] in md


@pytest.mark.parametrize("report_id", BUSINESS)
def test_without_plans_models_or_outcomes_the_blocks_say_which_and_the_report_renders(cohort, report_id):
    bare = replace(
        cohort,
        recommendations=None,
        outcome_models=None,
        portfolio=None,
        outcomes=cohort.outcomes.drop(columns=["marketing_spend", "customer_acquisition_cost"]),
    )
    env = _report(report_id, bare)
    reasons = json.dumps(env["analysis"])  # block reasons and per-brand reasons
    if report_id in ("revenue_impact_optimization", "market_position_enhancement", "market_penetration_strategy"):
        assert "recommendation plans not loaded" in reasons
    if report_id == "customer_lifetime_value_enhancement":
        assert env["analysis"]["ltv_cac"]["status"] == "missing_input"
        assert "customer_acquisition_cost" in env["analysis"]["ltv_cac"]["reason"]
    if report_id in ("competitive_advantage_analysis", "brand_portfolio_optimization"):  # revenue is optional
        no_revenue = _report(report_id, replace(bare, outcomes=bare.outcomes.drop(columns=["revenue"])))
        block = no_revenue["analysis"][
            "size_fair_gaps" if "size_fair_gaps" in no_revenue["analysis"] else "revenue_growth"
        ]
        assert block["status"] == "missing_input" and "revenue is null for all 60 brand-periods" in block["reason"]
        assert no_revenue["health"]["status"] != "FAIL" and render_html(no_revenue)
    if report_id == "roi_maximization_strategy":
        assert env["health"]["status"] == "FAIL" and "marketing_spend is null" in reasons
    if report_id == "brand_portfolio_optimization":
        assert env["analysis"]["allocation"]["status"] == "missing_input"
        assert "portfolio analysis not loaded" in env["analysis"]["allocation"]["reason"]
    assert render_html(env)


def test_relative_share_positions_and_hhi_on_a_hand_made_table(cohort):
    env = _report("market_position_enhancement", cohort)
    rs = env["analysis"]["relative_share"]["brands"]
    expected = {
        1: (40 / 30, "leader"),
        2: (30 / 40, "challenger"),
        3: (15 / 40, "follower"),
        4: (10 / 40, "niche"),
        5: (5 / 40, "niche"),
    }
    for b, (ratio, label) in expected.items():
        assert rs[str(b)]["relative_share"] == pytest.approx(ratio)
        assert rs[str(b)]["position"] == label
    latest = env["analysis"]["hhi"]["periods"][-1]
    assert latest["hhi"] == pytest.approx(sum(s * s for s in SHARES))
    assert env["analysis"]["relative_share"]["positions"] == {"leader": 1, "challenger": 1, "follower": 1, "niche": 2}
    gaps = env["analysis"]["section_gaps"]
    dc = cohort.scores.brands[cohort.scores.brands["period"] == cohort.scores.brands["period"].max()]
    leader = float(dc.loc[dc["brand_id"] == 1, "dc_score"].iloc[0])  # sections equal DC in this cohort
    assert gaps["brands"]["3"]["gaps"]["Marketplace"] == pytest.approx(
        leader - float(dc.loc[dc["brand_id"] == 3, "dc_score"].iloc[0])
    )


def test_revenue_per_plan_is_delta_dc_times_the_validated_revenue_per_point(cohort):
    env = _report("revenue_impact_optimization", cohort)
    point = env["analysis"]["revenue_per_dc_point"]
    assert point["source"].startswith("validated outcome model") and point["estimate"] == 150_000.0
    plans = env["analysis"]["plan_revenue"]["brands"]["2"]["plans"]
    for (gain, effort), plan in zip(FRONTS[2], plans):
        assert plan["revenue_change"] == pytest.approx(
            {"estimate": gain * 150_000, "ci_low": gain * 100_000, "ci_high": gain * 200_000}
        )
        assert plan["revenue_per_effort"] == pytest.approx(gain * 150_000 / effort)
    assert env["analysis"]["plan_revenue"]["brands"]["2"]["knee"]["plan_id"] == 1
    shares = env["analysis"]["revenue_shares"]["brands"]
    assert sum(b["share_pct"] for b in shares.values()) == pytest.approx(100.0)
    # Not validated: the slope block's within-brand slope takes over.
    unvalidated = replace(
        cohort, outcome_models=pd.DataFrame([model_row(9, "revenue", 1.0, 0.5, 1.5, validated=False)])
    )
    env = _report("revenue_impact_optimization", unvalidated)
    assert env["analysis"]["revenue_per_dc_point"]["estimate"] == pytest.approx(
        env["analysis"]["slope"]["within"]["slope"]
    )


def test_conversion_pp_per_point_at_the_mean_matches_an_independent_fit(cohort):
    env = _report("conversion_rate_optimization", cohort)
    obs = pd.DataFrame({"dc": cohort.scores.brands["dc_score"].to_numpy()})
    out = cohort.outcomes.sort_values(["brand_id", "period"])
    dc = cohort.scores.brands.sort_values(["brand_id", "period"])["dc_score"].to_numpy()
    cr = out["conversion_rate"].to_numpy() / 100
    b = np.polyfit(dc, np.log(cr / (1 - cr)), 1)[0]
    expected = 100 * b * cr.mean() * (1 - cr.mean())
    assert env["analysis"]["logit_slope"]["pp_per_point_at_mean"]["pooled"] == pytest.approx(expected, rel=1e-9)
    gaps = env["analysis"]["gaps"]
    latest = out[out["period"] == out["period"].max()]["conversion_rate"]
    assert gaps["best"] == pytest.approx(latest.max()) and gaps["median"] == pytest.approx(latest.median())
    assert len(obs) == len(cr)


def test_marginal_roas_is_the_median_of_revenue_change_over_spend_change(cohort):
    env = _report("roi_maximization_strategy", cohort)
    out = cohort.outcomes[cohort.outcomes["brand_id"] == 3].sort_values("period")
    ratio = out["revenue"].diff() / out["marketing_spend"].diff()
    assert env["analysis"]["marginal_roas"]["brands"]["3"]["median"] == pytest.approx(ratio.dropna().median())
    latest = cohort.outcomes[cohort.outcomes["period"] == cohort.outcomes["period"].max()]
    assert env["analysis"]["roas"]["portfolio_roas"] == pytest.approx(
        latest["revenue"].sum() / latest["marketing_spend"].sum()
    )


def test_dc_needed_to_close_half_the_headroom_and_the_cheapest_plan(cohort):
    env = _report("market_penetration_strategy", cohort)
    slope = env["analysis"]["share_slope"]["pp_per_point"]["estimate"]
    need = env["analysis"]["dc_needed"]
    for key, b in need["brands"].items():
        headroom = env["analysis"]["headroom"]["brands"][key]["headroom"]
        assert b["delta_dc_needed"] == pytest.approx(0.5 * headroom / slope)
        reaching = [(g, e) for g, e in FRONTS[int(key)] if g >= b["delta_dc_needed"]]
        assert b["reachable"] == bool(reaching)
        if reaching:
            assert b["plan_effort"] == min(e for _, e in reaching)


def test_competitive_gaps_rivals_and_size_fair_gaps(cohort):
    brands = cohort.brands.assign(role=["primary", "competitor", "benchmark", "benchmark", "competitor"])
    env = _report("competitive_advantage_analysis", replace(cohort, brands=brands), "detailed")
    market = env["analysis"]["section_standings"]["items"]["Marketplace"]
    dc = cohort.scores.brands[cohort.scores.brands["period"] == cohort.scores.brands["period"].max()].set_index(
        "brand_id"
    )["dc_score"]
    # Brand 1's rivals are the competitors 2 and 5; brand 2's only other competitor is 5.
    assert market["1"]["best_rival_id"] == int(dc[[2, 5]].idxmax()) and market["1"]["best_rival_role"] == "competitor"
    assert market["2"]["best_rival_id"] == 5
    assert market["1"]["gap_to_mean"] == pytest.approx(dc[1] - dc.mean())
    assert market["1"]["percentile"] == pytest.approx(stats.percentileofscore(dc.to_numpy(), dc[1], kind="mean"))
    # Size-fair gap = residual of the section score on log revenue across the brands.
    rev = cohort.outcomes[cohort.outcomes["period"] == cohort.outcomes["period"].max()].set_index("brand_id")["revenue"]
    fit = stats.linregress(np.log(rev[dc.index]), dc)
    fair = env["analysis"]["size_fair_gaps"]["sections"]["Marketplace"]["brands"]
    for b in dc.index:
        assert fair[str(b)]["size_fair_gap"] == pytest.approx(
            dc[b] - fit.intercept - fit.slope * np.log(rev[b]), abs=1e-9
        )
    # Gap trend = OLS slope of the gap to the cohort mean over the periods.
    panel = cohort.scores.brands.assign(gap=lambda d: d["dc_score"] - d.groupby("period")["dc_score"].transform("mean"))
    own = panel[panel["brand_id"] == 4].sort_values("period")
    assert market["4"]["gap_trend_per_period"] == pytest.approx(stats.linregress(np.arange(len(own)), own["gap"]).slope)
    assert market["4"]["window_periods"] == 6


def test_portfolio_projection_adds_the_allocated_gains(cohort):
    env = _report("brand_portfolio_optimization", cohort)
    alloc = env["analysis"]["allocation"]
    assert sum(b["effort"] for b in alloc["brands"].values()) == pytest.approx(alloc["budget"])
    assert alloc["budget"] == pytest.approx(5 * 10.0)  # the knee plans' efforts
    proj = env["analysis"]["projection"]
    dc = env["analysis"]["portfolio_dc"]["brands"]
    after = [b["dc"] + alloc["brands"][k]["delta_dc"] for k, b in dc.items()]
    assert proj["mean_dc"]["projected"] == pytest.approx(np.mean(after))
    gain = sum(b["delta_dc"] for b in alloc["brands"].values())
    assert proj["revenue"]["change"]["estimate"] == pytest.approx(gain * 150_000)
    rev = np.array([b["revenue"] for b in dc.values()])
    share = 100 * rev / rev.sum()
    assert env["analysis"]["revenue_concentration"]["latest"] == pytest.approx(np.sum(share**2))
    values = [b["dc"] for b in dc.values()]
    assert env["analysis"]["portfolio_dc"]["diversity"] == pytest.approx(np.std(values, ddof=1) / np.mean(values))
