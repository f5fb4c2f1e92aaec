"""Report 1 on the TechCorp fixture (SPEC §4) and on synthetic cohorts: standing, trends, notable changes,
consistency around the trend, contributions, outliers."""

from __future__ import annotations

import numpy as np
import pytest

from dc_pipeline.domain.reports.envelope import check_envelope_schema, check_insights_cite_numbers
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import builder_for
from dc_pipeline_tests.domain.reports.conftest import noisy, synthetic_data

R1 = builder_for("dc_score_performance_analysis")


def _texts(env) -> str:
    return "\n".join(i["text"] for i in env["key_insights"])


def test_techcorp_standing_ranks_gaps_and_contributions(techcorp_p2):
    env = build_report(R1, techcorp_p2, ReportParams())
    assert check_envelope_schema(env) == [] and check_insights_cite_numbers(env) == []
    latest = env["analysis"]["latest_period"]
    assert latest["period"] == "2024-04-01" and latest["leader_brand_id"] == 2
    assert latest["portfolio_mean"] == pytest.approx(81.6, abs=1e-9)
    assert latest["brands"]["3"]["gap_to_leader"] == pytest.approx(87.8 - 75.8, abs=1e-9)
    assert latest["tier_counts"] == {"high": 2, "medium": 1, "low": 0}
    stats = env["analysis"]["period_statistics"]["brands"]["1"]
    assert stats["change_vs_previous"] == pytest.approx(81.2 - 78.6, abs=1e-9)
    assert stats["sd"] == pytest.approx(np.std([78.6, 81.2], ddof=1), abs=1e-9)
    contrib = env["analysis"]["contributions"]["brands"]["2"]
    assert sum(contrib["sections"].values()) == pytest.approx(87.8, abs=1e-9)
    assert contrib["top_shortfalls"][0]["metric_name"] == "digital_spends_index"
    # Two periods: no trend test, no notable change; three brands: no IQR outliers.
    assert env["analysis"]["trend"]["status"] == "insufficient_data" and env["analysis"]["trend"]["required"] == 4
    assert env["analysis"]["outliers"]["status"] == "insufficient_data"
    assert env["health"]["status"] == "REVIEW" and "TechLaptop leads 2024-04-01" in _texts(env)


def test_portfolio_trend_statement_with_sen_slope_and_mann_kendall():
    rng = np.random.default_rng(1)
    dc = {f"B{i}": noisy(rng, 72 + 2 * i, 0.28, 1.0) for i in range(5)}
    env = build_report(R1, synthetic_data(dc), ReportParams())
    trend = env["analysis"]["trend"]
    assert trend["direction"] == "rising" and trend["sen"]["slope"] == pytest.approx(0.28, abs=0.05)
    assert trend["mann_kendall"]["p"] < 0.001
    text = _texts(env)
    assert "The portfolio mean DC rose from" in text and "over 36 months (Sen slope +0.2" in text
    assert "Mann-Kendall p < 0.001" in text
    assert check_insights_cite_numbers(env) == []


def test_flat_noisy_brand_change_is_not_news_but_a_spike_is():
    rng = np.random.default_rng(2)
    flat = list(75 + rng.normal(0, 3.5, 12))
    flat[-1] = flat[-2] + 7.0  # within this brand's usual movement (sd of changes ~5)
    calm = [75.0 + 0.1 * (t % 2) for t in range(11)] + [82.0]
    env = build_report(R1, synthetic_data({"Flat": flat, "Calm": calm, "Other": [70.0] * 12}), ReportParams())
    stats = env["analysis"]["period_statistics"]["brands"]
    assert not stats["1"]["latest_change"]["notable"] and stats["2"]["latest_change"]["notable"]
    text = _texts(env)
    assert "Calm moved +7.0 DC points" in text and "Flat moved" not in text


def test_steady_grower_is_not_called_inconsistent():
    rng = np.random.default_rng(4)
    grower = list(60 + 2.0 * np.arange(12) + rng.normal(0, 0.2, 12))
    wobbly = list(75 + rng.normal(0, 4.0, 12))
    env = build_report(
        R1, synthetic_data({"Grower": grower, "Wobbly": wobbly, "Mid": list(70 + rng.normal(0, 1, 12))}), ReportParams()
    )
    trend = env["analysis"]["trend"]
    grow = env["analysis"]["period_statistics"]["brands"]["1"]
    assert grow["consistency"] < trend["brands"]["2"]["consistency"]  # plain consistency would blame the grower
    assert trend["least_consistent_brand"] == "2"
    assert "Wobbly is the least consistent brand around its trend" in _texts(env)
    assert "Grower DC rose from" in _texts(env)


def test_project_without_values_fails_with_reason(techcorp):
    from dc_pipeline.demo.report_inputs import demo_report_data

    env = build_report(R1, demo_report_data(techcorp, 3, dq={"score": 0.97}), ReportParams())
    assert env["health"]["status"] == "FAIL"
    assert all(
        b["status"] == "insufficient_data"
        for n, b in env["analysis"].items()
        if n != "rank_bands" and n != "metric_detail"
    )
    assert "no normalized values for project 3" in env["analysis"]["latest_period"]["reason"]
    assert env["key_insights"] == [] and env["visualizations"] == {}


def test_outlier_among_five_brands():
    dc = {"A": [70.0] * 5, "B": [71.0] * 5, "C": [72.0] * 5, "D": [73.0] * 5, "E": [95.0] * 5}
    env = build_report(R1, synthetic_data(dc), ReportParams())
    out = env["analysis"]["outliers"]
    assert out["n_outliers"] == 1 and out["outliers"]["5"]["brand_name"] == "E"
    assert "E is a high outlier at DC 95.0" in _texts(env)


def test_refresh_churn_block_and_insight_from_the_rank_history(techcorp_p2):
    from dataclasses import replace

    import pandas as pd

    from dc_pipeline.domain.refresh.ranks import rank_changes

    current = techcorp_p2.scores.brands[techcorp_p2.scores.brands["project_id"] == 2]
    # The refresh before ranked TechWatch (b3) first and TechLaptop (b2) third.
    previous = current.assign(rank=current["brand_id"].map({1: 2, 2: 3, 3: 1}), run_id="run-before")
    history = rank_changes(previous, current).assign(run_id="run-now", recorded_at=pd.Timestamp("2024-05-01", tz="UTC"))
    env = build_report(R1, replace(techcorp_p2, refresh=history), ReportParams())
    block = env["analysis"]["refresh_churn"]
    assert block["status"] == "ok" and block["period"] == "2024-04-01"
    assert (block["n_changed"], block["n_brands"], block["share_changed"]) == (2, 3, pytest.approx(2 / 3))
    assert block["largest_move"] == {"brand_id": 2, "brand_name": "TechLaptop", "previous_rank": 3, "rank": 1,
                                     "rank_move": 2}  # fmt: skip
    assert block["previous_run_id"] == "run-before" and block["run_id"] == "run-now"
    assert (
        "2 of 3 brands changed rank in 2024-04-01 since the last refresh of the scores; the largest move is "
        "TechLaptop, rank 3 -> 1." in _texts(env)
    )
    assert check_insights_cite_numbers(env) == []
    first = build_report(R1, techcorp_p2, ReportParams())["analysis"]["refresh_churn"]
    assert first["status"] == "missing_input" and "first materialization" in first["reason"]
