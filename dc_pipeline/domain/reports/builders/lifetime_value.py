"""Report 11, customer_lifetime_value_enhancement (SPEC §7 item 11): DC and sections against CLV, CLV per DC
point, the CLV trend per brand, LTV:CAC, and CLV at each brand's knee plan when the CLV model is validated."""

from __future__ import annotations

from typing import Any

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import (
    LTV_CAC_FLOOR,
    brand_trends,
    corr_of,
    correlation_insight,
    grain_unit,
    ltv_cac,
    outcome_model_block,
    scatter_by_brand,
    section_correlations,
    slope_insight,
    slope_of,
    trend_insight,
)
from dc_pipeline.domain.reports.builders.plans import knee_plans, scaled
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import join_pointer

CLV = "customer_lifetime_value"


def knee_clv(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """CLV at each brand's knee plan: latest CLV + knee ΔDC × the validated model's CLV per DC point."""
    model, knees = done["clv_model"], done["knee_plans"]
    if not is_ok(model):
        return insufficient(f"no CLV model: {model.get('reason')}", 0, 1)
    if not model["model_validated"]:
        return insufficient(
            f"CLV model not validated ({model.get('validation_reason')}): no CLV is predicted at the knee plan", 0, 1
        )
    if not is_ok(knees):
        return knees
    obs = ctx.observations(CLV)
    latest = obs[obs["period"] == obs["period"].max()].set_index("brand_id")[CLV]
    per_point = {**model["outcome_per_dc_point"]}
    brands = {}
    for key, k in knees["brands"].items():
        if is_ok(k) and int(key) in latest.index:
            change = scaled(k["delta_dc"], per_point)
            brands[key] = {
                "brand_name": k["brand_name"],
                "clv": float(latest[int(key)]),
                "knee_delta_dc": k["delta_dc"],
                "knee_effort": k["effort"],
                "clv_change": change,
                "clv_at_knee": float(latest[int(key)]) + change["estimate"],
            }
    return ok_block(model_id=model.get("model_id"), clv_per_dc_point=per_point["estimate"], brands=brands)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    for item in (
        correlation_insight(root, "/analysis/correlation", "DC and customer lifetime value move together:"),
        slope_insight(
            root,
            "/analysis/slope",
            "CLV per DC point is {slope} ({level}% CI {lo} to {hi}; {within_clause} {sig}).",
            1,
            0.9,
        ),
    ):
        if item:
            out.append(item)
    sec = a["section_correlations"]
    if sec.get("strongest"):
        P = f"/analysis/section_correlations/sections/{sec['strongest']}"
        out.append(
            insight(
                "",
                "Of the sections, {section} tracks CLV most closely (r = {r}).",
                [
                    cite(root, "section", "/analysis/section_correlations/strongest"),
                    cite(root, "r", P + "/pearson/r", 3),
                ],
                abs(sec["sections"][sec["strongest"]]["pearson"]["r"]) * 0.8,
            )
        )
    for key in a["clv_trend"].get("brands", {}):
        item = trend_insight(
            root,
            join_pointer("analysis", "clv_trend", "brands", key),
            join_pointer("analysis", "clv_trend", "brands", key, "brand_name"),
            grain_unit(ctx),
            what="CLV",
        )
        if item:
            out.append({**item, "priority": min(item["priority"], 0.6)})
    ltv = a["ltv_cac"]
    for key, b in ltv["brands"].items() if is_ok(ltv) else []:
        if b["below_floor"]:
            B = join_pointer("analysis", "ltv_cac", "brands", key)
            out.append(
                insight(
                    "",
                    "{brand} earns only {ratio} times its acquisition cost over a customer's lifetime (below {floor}).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "ratio", B + "/ratio", 2),
                        cite(root, "floor", "/analysis/ltv_cac/floor", 0),
                    ],
                    0.7,
                )
            )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    kc = root["analysis"]["knee_clv"]
    if not is_ok(kc):
        return []
    out = []
    for key, b in sorted(kc["brands"].items(), key=lambda kb: -kb[1]["clv_change"]["estimate"]):
        P = join_pointer("analysis", "knee_clv", "brands", key)
        out.append(
            recommendation(
                "",
                "{brand}: the knee plan (+{dc} DC, {effort} effort units) raises expected CLV from {clv} to {at} "
                "({lo} to {hi} change).",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "dc", P + "/knee_delta_dc", 2),
                    cite(root, "effort", P + "/knee_effort"),
                    cite(root, "clv", P + "/clv", 0),
                    cite(root, "at", P + "/clv_at_knee", 0),
                    cite(root, "lo", P + "/clv_change/ci_low", 0, True),
                    cite(root, "hi", P + "/clv_change/ci_high", 0, True),
                ],
                brand_id=int(key),
                section=None,
                expected_delta_dc=b["knee_delta_dc"],
                effort=b["knee_effort"],
                source=P,
                outcome_impact={"outcome": CLV, **b["clv_change"]},
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "dc_vs_clv": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            CLV,
            "dc",
            title="DC vs customer lifetime value by brand",
            x_label="DC score",
            y_label="CLV",
            slope_path="/analysis/slope",
        )
    }
    ltv = root["analysis"]["ltv_cac"]
    if is_ok(ltv):
        out["ltv_cac"] = charts.bar(
            f"LTV:CAC by brand, {ltv['period']}",
            "/analysis/ltv_cac",
            [b["brand_name"] for b in ltv["brands"].values()],
            [b["ratio"] for b in ltv["brands"].values()],
            y_label="LTV / CAC",
            bands=[LTV_CAC_FLOOR],
            value_format="coefficient",
        )
    return out


BUILDER = ReportBuilder(
    report_id="customer_lifetime_value_enhancement",
    needs=REPORT_NEEDS["customer_lifetime_value_enhancement"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, CLV)),
        Block("slope", lambda ctx, _: slope_of(ctx, CLV)),
        Block("section_correlations", lambda ctx, _: section_correlations(ctx, CLV)),
        Block("clv_trend", lambda ctx, _: ok_block(brands=brand_trends(ctx, CLV, "CLV"))),
        Block("ltv_cac", ltv_cac),
        Block("clv_model", lambda ctx, _: outcome_model_block(ctx, CLV), "standard"),
        Block("knee_plans", knee_plans, "standard"),
        Block("knee_clv", knee_clv, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Pearson r (DC, CLV)", "/analysis/correlation/pearson/r", "coefficient"),
        Kpi("CLV per DC point", "/analysis/slope/pooled/slope", "money"),
    ],
)
