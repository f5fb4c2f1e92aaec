"""Report 1 on the TechCorp fixture (SPEC §4 table) and on small synthetic cohorts."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.reports.dc_score_performance import build_dc_score_performance_analysis
from dc_pipeline.domain.reports.envelope import (
    attach_system_metadata,
    canonical_json,
    check_envelope_schema,
    check_insights_cite_numbers,
    verify_signature,
    with_signature,
)
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.render import render_html, render_markdown
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.source_tables import SECTIONS

SECTION_VALUES = {
    (1, 1): (82.3, 75.2, 79.1, 77.8),
    (1, 2): (88.1, 83.5, 84.7, 84.5),
    (1, 3): (74.5, 68.9, 73.2, 71.8),
    (2, 1): (84.1, 78.5, 81.8, 80.4),
    (2, 2): (90.2, 86.1, 87.5, 87.4),
    (2, 3): (78.2, 72.1, 76.9, 76.0),
}
PERIODS = {1: "2024-01-01", 2: "2024-04-01", 3: "2024-07-01"}
NAMES = {1: "TechPhone", 2: "TechLaptop", 3: "TechWatch"}
PROJECT2 = {"project_id": 2, "project_name": "Q2 2024 Performance Analysis", "period_grain": "quarter"}
DQ = {"score": 0.97, "quarantined_rows": {"V1": 0}}
KEY = b"test-key"


def _metrics(projects) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                metric_id=(p - 1) * 4 + i + 1,
                project_id=p,
                section_name=s,
                platform_name="Composite",
                metric_name=s.lower().replace(" ", "_") + "_index",
                metric_type="maximize",
                weight=1.0,
                effort_cost=1.0,
                is_active=True,
            )
            for p in projects
            for i, s in enumerate(SECTIONS)
        ]
    )


def _values(section_values: dict, periods: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                project_id=p,
                brand_id=b,
                metric_id=(p - 1) * 4 + i + 1,
                period=pd.Timestamp(periods[p]),
                normalized_value=v,
            )
            for (p, b), vals in section_values.items()
            for i, v in enumerate(vals)
        ]
    )


@pytest.fixture(scope="module")
def scores():
    return compute_dc_scores(_values(SECTION_VALUES, PERIODS), _metrics((1, 2, 3)))


def _build(scores, **kw):
    params = kw.pop("params", ReportParams())
    return build_dc_score_performance_analysis(
        scores, NAMES, kw.pop("project", PROJECT2), params, dq=kw.pop("dq", DQ), **kw
    )


@pytest.fixture(scope="module")
def envelope(scores):
    return _build(scores)


def _dc(scores, project, brand) -> float:
    b = scores.brands
    return float(b.loc[(b.project_id == project) & (b.brand_id == brand), "dc_score"].iloc[0])


def test_latest_period_ranks_and_gaps(scores, envelope):
    latest = envelope["analysis"]["latest_period"]
    assert latest["status"] == "ok" and latest["period"] == "2024-04-01"
    assert latest["brands"]["2"]["rank"] == 1 and latest["leader_brand_id"] == 2
    assert latest["brands"]["3"]["rank"] == latest["n_brands"] == 3 and latest["laggard_brand_id"] == 3
    expected_gap = _dc(scores, 2, 2) - _dc(scores, 2, 3)
    assert latest["brands"]["3"]["gap_to_leader"] == pytest.approx(expected_gap, abs=1e-9)
    assert expected_gap == pytest.approx(87.8 - 75.8, abs=1e-9)
    mean = np.mean([_dc(scores, 2, b) for b in (1, 2, 3)])
    assert latest["portfolio_mean"] == pytest.approx(81.6, abs=1e-9) == mean
    assert latest["brands"]["1"]["gap_to_mean"] == pytest.approx(_dc(scores, 2, 1) - mean, abs=1e-9)
    assert latest["tier_counts"] == {"high": 2, "medium": 1, "low": 0}


def test_period_statistics_consistency_and_change(scores, envelope):
    stats = envelope["analysis"]["period_statistics"]
    assert stats["status"] == "ok" and stats["periods"] == ["2024-01-01", "2024-04-01"]
    for brand in (1, 2, 3):
        dc = np.array([_dc(scores, 1, brand), _dc(scores, 2, brand)])
        row = stats["brands"][str(brand)]
        assert row["mean"] == pytest.approx(dc.mean(), abs=1e-9)
        assert row["sd"] == pytest.approx(dc.std(ddof=1), abs=1e-9)
        assert row["consistency"] == pytest.approx(1 - dc.std(ddof=1) / dc.mean(), abs=1e-12)
        assert row["change_vs_previous"] == pytest.approx(dc[1] - dc[0], abs=1e-9)
    assert stats["brands"]["3"]["change_vs_previous"] == pytest.approx(3.7, abs=1e-9)
    assert stats["portfolio"][1]["change"] == pytest.approx(81.6 - 78.633333333, abs=1e-6)


def test_contributions_sorted_and_sum_to_dc(scores, envelope):
    block = envelope["analysis"]["contributions"]
    watch = block["brands"]["3"]
    values = [r["value"] for r in watch["top_contributions"]]
    assert values == sorted(values, reverse=True) and len(values) == 4  # only 4 metrics exist
    assert watch["total_contribution"] == pytest.approx(_dc(scores, 2, 3), abs=1e-9)
    assert watch["top_shortfalls"][0]["metric_name"] == "digital_spends_index"
    assert watch["top_shortfalls"][0]["value"] == pytest.approx(0.25 * (100 - 72.1), abs=1e-9)
    assert sum(block["sections"]["3"].values()) == pytest.approx(_dc(scores, 2, 3), abs=1e-9)


def test_outliers_need_four_brands(envelope):
    block = envelope["analysis"]["outliers"]
    assert block["status"] == "insufficient_data" and "3 brands" in block["reason"] and "4 needed" in block["reason"]
    assert envelope["health"]["status"] == "REVIEW"
    assert any(r["code"] == "insufficient_data" and r["value"] == 3 for r in envelope["health"]["reasons"])


def test_iqr_outlier_flagged_with_five_brands():
    dcs = {11: 80.0, 12: 81.0, 13: 82.0, 14: 83.0, 15: 40.0}
    values = {(1, b): (v, v, v, v) for b, v in dcs.items()}
    sc = compute_dc_scores(_values(values, PERIODS), _metrics((1,)))
    env = build_dc_score_performance_analysis(sc, {}, {"project_id": 1, "period_grain": "month"}, ReportParams(), dq=DQ)
    block = env["analysis"]["outliers"]
    q1, q3 = np.percentile(list(dcs.values()), [25, 75])
    assert block["status"] == "ok" and block["lower_fence"] == pytest.approx(q1 - 1.5 * (q3 - q1))
    assert list(block["outliers"]) == ["15"] and block["outliers"]["15"]["direction"] == "low"
    assert any("outlier" in i["text"] for i in env["key_insights"])
    assert check_insights_cite_numbers(env) == []


def test_insights_cite_their_numbers_and_tampering_is_caught(envelope):
    assert len(envelope["key_insights"]) == 5
    assert check_insights_cite_numbers(envelope) == []
    assert check_envelope_schema(envelope) == []
    for item in envelope["key_insights"]:
        for fig in item["figures"]:
            assert fig["path"].startswith("/analysis/")
    tampered = copy.deepcopy(envelope)
    laggard = next(i for i in tampered["key_insights"] if "behind the leader" in i["text"])
    laggard["text"] = laggard["text"].replace("12.0", "13.0")
    assert any("13.0" in p for p in check_insights_cite_numbers(tampered))
    bad_path = copy.deepcopy(envelope)
    bad_path["key_insights"][0]["figures"][0]["path"] = "/analysis/latest_period/brands/99/dc_score"
    assert any("does not resolve" in p for p in check_insights_cite_numbers(bad_path))


def test_recommendations_quote_shortfall_as_delta_dc(scores):
    env = _build(scores, effort_costs={m: 1.0 for m in range(1, 13)})
    recs = env["strategic_recommendations"]
    assert len(recs) == 5 and check_insights_cite_numbers(env) == []
    # each brand's largest shortfall comes first
    assert {r["brand_id"] for r in recs[:3]} == {1, 2, 3}
    first = recs[0]
    row = env["analysis"]["contributions"]["brands"][str(first["brand_id"])]["top_shortfalls"][0]
    assert first["expected_delta_dc"] == row["value"] and first["section"] == row["section"]
    s = row["directed_score"]
    best = max(SECTION_VALUES[(2, b)][SECTIONS.index(row["section"])] for b in (1, 2, 3))
    assert first["effort"] == pytest.approx((100 - s) + (100 - s) ** 2 / (101 - s) + (100 - max(s, best)))
    assert "effort" in first["text"]
    no_costs = _build(scores)["strategic_recommendations"][0]
    assert no_costs["effort"] is None and "not computed" in no_costs["effort_reason"]


def test_signature_verifies_and_detects_change(envelope):
    meta = attach_system_metadata(
        envelope,
        generated_at="2024-07-02T00:00:00Z",
        generation_seconds=0.4,
        code_version="dc_pipeline 0.1.0",
        dagster_run_id="r1",
        partition="p2",
        input_data_versions={"dc_scores/p2": "sha256:ab"},
        parameters={},
        seed=42,
    )
    signed = with_signature(meta, KEY, dev=True)
    assert signed["system_metadata"]["signature"].startswith("hmac-sha256:dev:")
    assert verify_signature(signed, KEY) and not verify_signature(signed, b"other-key")
    changed = copy.deepcopy(signed)
    changed["analysis"]["latest_period"]["brands"]["3"]["dc_score"] = 75.9
    assert not verify_signature(changed, KEY)
    assert check_envelope_schema(signed) == []


def test_identical_inputs_give_identical_json(scores, envelope):
    assert canonical_json(_build(scores)) == canonical_json(envelope)


def test_html_is_self_contained_and_escaped(scores):
    env = build_dc_score_performance_analysis(
        scores, {**NAMES, 3: "<script>Watch&Co</script>"}, PROJECT2, ReportParams(), dq=DQ
    )
    html = render_html(env)
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "&lt;script&gt;Watch&amp;Co&lt;/script&gt;" in html
    assert html.count("<svg") == 3 and 'id="fig-dc_by_brand"' in html
    assert env["health"]["status"] in html and env["key_insights"][0]["text"].split(" ")[1] in html


def test_markdown_has_a_table_and_link_per_chart(envelope):
    md = render_markdown(envelope, html_href="latest.html")
    for name in envelope["visualizations"]:
        assert f"(latest.html#fig-{name})" in md
    assert "| label | value |" in md and "| TechWatch | 75.80 |" in md
    assert "| x | TechPhone | TechLaptop | TechWatch |" in md
    assert "| label | Marketplace | Digital Spends | Organic Performance | Socialwatch |" in md


def test_depth_controls_insights_charts_and_blocks(scores):
    basic = _build(scores, params=ReportParams(analysis_depth="basic"))
    assert len(basic["key_insights"]) == 3 and len(basic["visualizations"]) <= 3
    assert basic["analysis"]["metric_detail"]["status"] == "skipped_by_depth"
    detailed = _build(scores, params=ReportParams(analysis_depth="detailed"))
    assert len(detailed["key_insights"]) == 10
    assert detailed["analysis"]["metric_detail"]["status"] == "ok"
    assert check_insights_cite_numbers(detailed) == []
    priorities = [i["priority"] for i in detailed["key_insights"]]
    assert priorities == sorted(priorities, reverse=True)


def test_no_visualizations_when_disabled(scores):
    env = _build(scores, params=ReportParams(include_visualizations=False))
    assert env["visualizations"] == {}
    assert "<svg" not in render_html(env)


def test_empty_project_fails_with_reason(scores):
    env = _build(scores, project={"project_id": 3, "period_grain": "quarter"}, dq=None)
    assert env["health"]["status"] == "FAIL"
    assert env["health"]["reasons"][0] == {
        "code": "minimum_data_unmet",
        "message": "no normalized values for project 3",
        "value": 0,
        "threshold": 1,
    }
    for name, block in env["analysis"].items():
        if block["status"] != "skipped_by_depth":
            assert block["reason"] == "no normalized values for project 3", name
    assert env["key_insights"] == [] and env["visualizations"] == {}
    assert env["data_context"]["observations"] == 0
    assert env["data_context"]["data_quality"]["status"] == "missing_input"
    assert "no normalized values for project 3" in env["executive_summary"]
    assert check_envelope_schema(env) == []
    json.loads(canonical_json(env))


def test_data_context_and_dq_driven_health(scores, envelope):
    ctx = envelope["data_context"]
    assert ctx["projects_analyzed"] == [1, 2] and ctx["brands_analyzed"] == [1, 2, 3]
    assert ctx["periods"] == {"first": "2024-01-01", "last": "2024-04-01", "n": 2, "expected": None}
    assert ctx["observations"] == 6
    assert ctx["confidence"]["adequacy"] == pytest.approx(0.6)
    assert ctx["confidence"]["value"] == pytest.approx(0.97 * 0.6)
    assert ctx["data_quality"]["band"] == "excellent"
    assert _build(scores, dq={"score": 0.5})["health"]["status"] == "FAIL"
    review = _build(scores, dq={"score": 0.7, "quarantined_rows": {"V3": 2, "U1": 1}})["health"]
    codes = {r["code"] for r in review["reasons"]}
    assert review["status"] == "REVIEW" and {"dq_below_excellent", "rows_quarantined"} <= codes
    gap = _build(scores, periods_expected=3)["data_context"]["missing_inputs"]
    assert "periods with DC scores: 2 of 3 expected" in gap


def test_project1_snapshot_has_insufficient_history():
    sc = compute_dc_scores(_values({k: v for k, v in SECTION_VALUES.items() if k[0] == 1}, PERIODS), _metrics((1,)))
    env = build_dc_score_performance_analysis(
        sc, NAMES, {"project_id": 1, "period_grain": "quarter"}, ReportParams(), dq=DQ
    )
    stats = env["analysis"]["period_statistics"]
    assert stats["status"] == "insufficient_data" and stats["reason"].startswith("insufficient history: 1 period")
    assert stats["brands"]["1"]["sd"] is None and stats["brands"]["1"]["mean"] == pytest.approx(78.6, abs=1e-9)
    assert check_insights_cite_numbers(env) == []


def test_brand_with_null_dc_is_listed_but_not_ranked():
    values = _values({k: v for k, v in SECTION_VALUES.items() if k[0] == 1}, PERIODS)
    partial = values[values.brand_id == 3].head(2).assign(brand_id=4)  # coverage 0.5 < 0.7
    sc = compute_dc_scores(pd.concat([values, partial], ignore_index=True), _metrics((1,)))
    env = build_dc_score_performance_analysis(
        sc, NAMES, {"project_id": 1, "period_grain": "quarter"}, ReportParams(), dq=DQ
    )
    latest = env["analysis"]["latest_period"]
    assert latest["n_brands"] == 3 and latest["n_brands_without_score"] == 1
    assert latest["brands"]["4"]["dc_score"] is None and latest["brands"]["4"]["rank"] is None
    assert "coverage" in latest["brands"]["4"]["null_reason"]
    assert env["visualizations"]["dc_by_brand"]["figure"]["values"][-1] is None
    assert "4" not in env["analysis"]["contributions"]["brands"]
    assert check_insights_cite_numbers(env) == [] and check_envelope_schema(env) == []
    assert "n/a" in render_html(env)
