"""Registry against the catalog, each parameter's effect, health from robustness, escaping and axis thinning."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from dc_pipeline.domain.reports.catalog import REPORT_NEEDS, REPORTS_BY_ID
from dc_pipeline.domain.reports.charts import bar, line
from dc_pipeline.domain.reports.charts.axes import thinned_ticks
from dc_pipeline.domain.reports.charts.draw import compact, figure_svg
from dc_pipeline.domain.reports.data import INPUTS
from dc_pipeline.domain.reports.envelope import check_envelope_schema, check_insights_cite_numbers
from dc_pipeline.domain.reports.framework import RunInfo, build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import BUILDER_MODULES, STILL_TO_COME, all_builders, builder_for
from dc_pipeline.domain.reports.render import render_html, render_markdown
from dc_pipeline.domain.reports.signing import verify_signature
from dc_pipeline_tests.domain.reports.conftest import synthetic_data

BUILDERS = all_builders()

EVIL = "<script>alert(1)</script>"


def test_registry_plus_still_to_come_is_the_catalog():
    assert set(BUILDERS).isdisjoint(STILL_TO_COME)
    assert set(BUILDERS) | set(STILL_TO_COME) == set(REPORTS_BY_ID)
    assert {REPORTS_BY_ID[r].number for r in BUILDERS} == set(range(1, 26)) and not STILL_TO_COME
    assert set(BUILDER_MODULES) == set(BUILDERS)
    for report_id, builder in BUILDERS.items():  # each module's builder is the report it is listed for
        assert builder.report_id == report_id and builder.needs == REPORT_NEEDS[report_id] & INPUTS


@pytest.mark.parametrize("report_id", sorted(BUILDERS))
def test_every_report_on_techcorp_passes_schema_and_citations(techcorp_p2, report_id):
    env = build_report(builder_for(report_id), techcorp_p2, ReportParams(analysis_depth="detailed"))
    assert check_envelope_schema(env) == [] and check_insights_cite_numbers(env) == []
    spec = REPORTS_BY_ID[report_id]
    if spec.required_outcomes and spec.required_outcomes[0] not in (
        "revenue",
        "market_share",
        "customer_acquisition_cost",
        "bestseller_rank",
    ):
        assert env["health"]["status"] == "FAIL"
        assert "missing outcome" in env["health"]["reasons"][0]["message"]


def test_techcorp_figures_of_spec_4_in_reports_3_and_5(techcorp_p2):
    r3 = build_report(builder_for("score_revenue_correlation"), techcorp_p2, ReportParams())
    assert r3["analysis"]["correlation"]["pearson"]["r"] == pytest.approx(0.9833, abs=5e-5)
    assert r3["analysis"]["slope"]["pooled"]["slope"] == pytest.approx(1_093_996, abs=1)
    assert r3["analysis"]["slope"]["within"]["slope"] == pytest.approx(477_398, abs=1)
    text3 = " ".join(i["text"] for i in r3["key_insights"])
    assert "r = 0.9833" in text3 and "1,093,996" in text3 and "477,398" in text3
    r5 = build_report(builder_for("customer_acquisition_efficiency"), techcorp_p2, ReportParams())
    assert r5["analysis"]["correlation"]["pearson"]["r"] == pytest.approx(-0.9994, abs=5e-5)
    assert r5["analysis"]["slope"]["pooled"]["slope"] == pytest.approx(-1.082, abs=5e-4)
    text5 = " ".join(i["text"] for i in r5["key_insights"])
    assert "r = -0.9994" in text5 and "-1.082 per DC point" in text5


def test_confidence_level_sets_intervals_and_alpha(techcorp_p2):
    b = builder_for("score_revenue_correlation")
    wide = build_report(b, techcorp_p2, ReportParams(confidence_level=0.99))["analysis"]
    narrow = build_report(b, techcorp_p2, ReportParams(confidence_level=0.80))["analysis"]
    width = lambda a: a["slope"]["pooled"]["ci_high"] - a["slope"]["pooled"]["ci_low"]  # noqa: E731
    assert width(wide) > width(narrow)
    assert wide["correlation"]["pearson"]["ci_low"] < narrow["correlation"]["pearson"]["ci_low"]
    assert wide["slope"]["alpha"] == pytest.approx(0.01) and narrow["slope"]["alpha"] == pytest.approx(0.2)


def test_depth_brand_scope_visualizations_and_horizon(techcorp_p2):
    b = builder_for("score_revenue_correlation")
    basic = build_report(b, techcorp_p2, ReportParams(analysis_depth="basic"))
    assert basic["analysis"]["revenue_model"]["status"] == "skipped_by_depth" and len(basic["key_insights"]) <= 3
    assert len(basic["visualizations"]) <= 3
    standard = build_report(b, techcorp_p2, ReportParams())
    assert standard["analysis"]["revenue_model"]["status"] == "missing_input"
    scoped = build_report(builder_for("dc_score_performance_analysis"), techcorp_p2, ReportParams(brand_ids=(1, 2)))
    assert set(scoped["analysis"]["latest_period"]["brands"]) == {"1", "2"}
    assert scoped["data_context"]["brands_analyzed"] == [1, 2]
    off = build_report(b, techcorp_p2, ReportParams(include_visualizations=False))
    assert off["visualizations"] == {} and "<svg" not in render_html(off)
    from dc_pipeline.domain.reports.catalog import report_spec
    from dc_pipeline.domain.reports.context import ReportContext

    frame = pd.DataFrame({"horizon": range(1, 25)})
    ctx = ReportContext(techcorp_p2, ReportParams(forecast_horizon=7), report_spec("score_revenue_correlation"))
    assert ctx.forecast_slice(frame)["horizon"].max() == 3  # 7 months on a quarterly grain = 3 periods


def test_tier_band_from_robustness_makes_review(techcorp_p2):
    from dataclasses import replace

    mc = pd.DataFrame(
        [
            {
                "project_id": 2,
                "brand_id": 2,
                "period": pd.Timestamp("2024-04-01"),
                "dc_lo": 78.5,
                "dc_hi": 88.0,
                "tier_uncertain": True,
            }
        ]
    )
    env = build_report(
        builder_for("dc_score_performance_analysis"),
        replace(techcorp_p2, robustness={"robustness_monte_carlo": mc}),
        ReportParams(),
    )
    codes = [r["code"] for r in env["health"]["reasons"]]
    assert "tier_uncertain" in codes and env["health"]["status"] == "REVIEW"


def test_metadata_and_signature(techcorp_p2):
    run = RunInfo(generated_at="2024-05-01T00:00:00+00:00", code_version="test", partition="p2")
    env = build_report(
        builder_for("dc_score_performance_analysis"), techcorp_p2, ReportParams(), run=run, signing_key=(b"k", True)
    )
    assert env["system_metadata"]["partition"] == "p2" and verify_signature(env, b"k")
    assert not verify_signature({**env, "title": "x"}, b"k")


def test_data_text_is_escaped_in_html_and_markdown():
    data = synthetic_data(
        {EVIL: [70.0, 72, 74, 76, 78], "*x*|y": [60.0, 61, 62, 63, 64], "Plain": [80.0, 80, 81, 80, 81]}
    )
    env = build_report(builder_for("dc_score_performance_analysis"), data, ReportParams())
    html = render_html(env)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = render_markdown(env)
    assert "<script>" not in md and r"\<script\>alert(1)\</script\>" in md
    assert r"\*x\*\|y" in md and "*x*|y" not in md.replace(r"\*x\*\|y", "")


def test_period_axis_is_thinned_to_short_labels():
    periods = [str(d.date()) for d in pd.date_range("2022-01-01", periods=36, freq="MS")]
    svg = figure_svg(line("t", "/analysis/x", periods, {"a": list(range(36))}, y_label="DC"))
    shown = re.findall(r">((?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d)<", svg)
    assert 6 <= len(shown) <= 12 and shown[-1] == "Dec 24" and "2022-01-01" not in svg
    assert thinned_ticks(5) == [0, 1, 2, 3, 4] and thinned_ticks(36)[-1] == 35 and len(thinned_ticks(36)) <= 12


def test_money_reads_at_a_glance_on_bars_and_axes():
    assert [compact(v) for v in (24_500_000, -1_105_796, 12_345, 1_234, 11.4)] == [
        "24.5M",
        "-1.11M",
        "12.3k",
        "1,234",
        "11.4",
    ]
    svg = figure_svg(
        bar("Revenue", "/analysis/x", ["A", "B"], [24_500_000, 9_200_000], y_label="revenue", value_format="money")
    )
    assert ">24.5M<" in svg and ">9.2M<" in svg  # bar labels
    assert "e+07" not in svg and "1e7" not in svg  # no scientific notation or axis offset
