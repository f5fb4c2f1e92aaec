"""Report 24, strategic_planning_insights (SPEC §7 item 24): a strengths / weaknesses / opportunities /
threats matrix from numbers (sections and metrics >= p75 / <= p25 of the project's latest period; the best
gain/effort opportunities; significant Mann-Kendall declines and P(tier drop) > 0.3); initiatives (short =
quick wins, medium = knee plan, long = max-gain plan); per-period milestones = forecast median + the knee plan
phased in. Charts: priority matrix (gain vs effort); milestone timeline."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import p_label
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import TIER_BANDS, brand_trends
from dc_pipeline.domain.reports.builders.model_inputs import (
    forecast_table,
    knee_and_max,
    missing_forecasts,
    missing_plans,
    p_below_floor,
    plans_loaded,
    series_forecast,
)
from dc_pipeline.domain.reports.builders.opportunity_identification import opportunity_table
from dc_pipeline.domain.reports.builders.scenario_planning import phased_plan
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

TIER_DROP_ALERT = 0.3
TOP_N = 5


def _quartile_items(values: dict[str, float]) -> tuple[list[str], list[str], float, float]:
    v = np.array(list(values.values()))
    hi, lo = float(np.percentile(v, 75)), float(np.percentile(v, 25))
    strong = sorted((k for k, x in values.items() if x >= hi), key=lambda k: -values[k])
    weak = sorted((k for k, x in values.items() if x <= lo), key=lambda k: values[k])
    return strong, weak, hi, lo


def swot(ctx: ReportContext, _: dict) -> dict[str, Any]:
    latest = ctx.latest_panel
    sections = {
        f"{ctx.name(r['brand_id'])} | {s}": float(r[s])
        for r in latest.to_dict("records")
        for s in SECTIONS
        if np.isfinite(r[s])
    }
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest) & m["directed_score"].notna()]
    metrics = {
        f"{ctx.name(r.brand_id)} | {r.metric_name} ({r.platform_name})": float(r.directed_score) for r in m.itertuples()
    }
    s_strong, s_weak, s_hi, s_lo = _quartile_items(sections)
    m_strong, m_weak, m_hi, m_lo = _quartile_items(metrics) if metrics else ([], [], None, None)
    table, why = opportunity_table(ctx)
    opportunities = (
        [
            {
                "brand_name": ctx.name(r.brand_id),
                "metric_name": r.metric_name,
                "platform": r.platform_name,
                "gain": float(r.gain),
                "effort": float(r.effort),
                "ratio": float(r.ratio),
            }
            for r in table.head(TOP_N).itertuples()
        ]
        if why is None
        else []
    )
    trends = brand_trends(ctx, "dc", "DC")
    threats = [
        {
            "kind": "significant_decline",
            "brand_name": b["brand_name"],
            "sen_slope": b["sen"]["slope"],
            "p_holm": b["p_holm"],
            "p_label": p_label(b["p_holm"]),
        }
        for b in trends.values()
        if is_ok(b) and b["direction"] == "falling"
    ]
    if forecast_table(ctx, "brand_forecasts") is not None:
        for r in latest.sort_values("brand_id").itertuples():
            p = p_below_floor(ctx, int(r.brand_id), float(r.dc))
            if p["status"] == "ok" and p["p"] > TIER_DROP_ALERT:
                threats.append(
                    {
                        "kind": "tier_drop_risk",
                        "brand_name": ctx.name(r.brand_id),
                        "p": p["p"],
                        "floor": p["floor"],
                        "period": p["period"],
                    }
                )
    return ok_block(
        period=iso_date(ctx.latest),
        section_p75=s_hi,
        section_p25=s_lo,
        metric_p75=m_hi,
        metric_p25=m_lo,
        strengths={
            "sections": [{"item": k, "score": sections[k]} for k in s_strong[:TOP_N]],
            "metrics": [{"item": k, "score": metrics[k]} for k in m_strong[:TOP_N]],
        },
        weaknesses={
            "sections": [{"item": k, "score": sections[k]} for k in s_weak[:TOP_N]],
            "metrics": [{"item": k, "score": metrics[k]} for k in m_weak[:TOP_N]],
        },
        opportunities=opportunities,
        opportunities_reason=why,
        threats=threats,
        threats_basis="Holm-adjusted Mann-Kendall declines of DC"
        + ("" if forecast_table(ctx, "brand_forecasts") is not None else f"; {missing_forecasts(ctx)}"),
    )


def initiatives(ctx: ReportContext, _: dict) -> dict[str, Any]:
    if not plans_loaded(ctx):
        return unavailable_block("missing_input", missing_plans(ctx), 0, 1)
    table, _why = opportunity_table(ctx)
    brands = {}
    for brand_id in sorted(int(b) for b in ctx.latest_panel["brand_id"]):
        knee, best = knee_and_max(ctx, brand_id)
        own = table[table["brand_id"] == brand_id] if len(table) else table
        quick = own[own["delta"] <= 10].head(3) if len(own) else own
        brands[str(brand_id)] = {
            "brand_name": ctx.name(brand_id),
            "short": [
                {
                    "metric_name": r.metric_name,
                    "platform": r.platform_name,
                    "gain": float(r.gain),
                    "effort": float(r.effort),
                }
                for r in quick.itertuples()
            ],
            "short_gain": float(quick["gain"].sum()) if len(quick) else 0.0,
            "medium": None
            if knee is None
            else {k: knee[k] for k in ("plan_id", "delta_dc", "effort", "n_metrics_changed")},
            "long": None
            if best is None
            else {k: best[k] for k in ("plan_id", "delta_dc", "effort", "n_metrics_changed")},
        }
    return ok_block(
        short_rule="quick wins: up to 3 metric gaps of <= 10 points to the cohort best, by gain/effort",
        medium_rule="knee plan of the stored Pareto front",
        long_rule="largest-gain plan of the front",
        brands=brands,
    )


def milestones(ctx: ReportContext, done: dict) -> dict[str, Any]:
    if forecast_table(ctx, "brand_forecasts") is None:
        return unavailable_block("missing_input", missing_forecasts(ctx), 0, 1)
    init = done["initiatives"]
    brands = {}
    for brand_id in sorted(int(b) for b in ctx.latest_panel["brand_id"]):
        fc = series_forecast(ctx, brand_id, "dc")
        if fc.empty:
            continue
        medium = init["brands"][str(brand_id)]["medium"] if is_ok(init) else None
        baseline = [float(v) for v in fc["q0.5"]]
        brands[str(brand_id)] = {
            "brand_name": ctx.name(brand_id),
            "periods": [iso_date(p) for p in fc["period"]],
            "forecast": baseline,
            "with_plan": phased_plan(baseline, medium["delta_dc"]) if medium else None,
        }
    if not brands:
        return unavailable_block("insufficient_data", "no brand has a stored DC forecast (4 periods needed)", 0, 4)
    return ok_block(rule="forecast median + the knee plan's ΔDC phased in linearly over the horizon", brands=brands)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    s = a["swot"]
    S = "/analysis/swot"
    if s["strengths"]["sections"]:
        out.append(
            insight(
                "",
                "Strength: {item} at {score} is in the top quarter of sections (p75 {p75}).",
                [
                    cite(root, "item", S + "/strengths/sections/0/item"),
                    cite(root, "score", S + "/strengths/sections/0/score"),
                    cite(root, "p75", S + "/section_p75"),
                ],
                0.6,
            )
        )
    if s["weaknesses"]["sections"]:
        out.append(
            insight(
                "",
                "Weakness: {item} at {score} is in the bottom quarter of sections (p25 {p25}).",
                [
                    cite(root, "item", S + "/weaknesses/sections/0/item"),
                    cite(root, "score", S + "/weaknesses/sections/0/score"),
                    cite(root, "p25", S + "/section_p25"),
                ],
                0.65,
            )
        )
    if s["opportunities"]:
        out.append(
            insight(
                "",
                "Opportunity: {brand} on {metric} gives {ratio} DC per effort unit (+{gain} DC).",
                [
                    cite(root, "brand", S + "/opportunities/0/brand_name"),
                    cite(root, "metric", S + "/opportunities/0/metric_name"),
                    cite(root, "ratio", S + "/opportunities/0/ratio", 3),
                    cite(root, "gain", S + "/opportunities/0/gain", 2),
                ],
                0.55,
            )
        )
    for i, t in enumerate(s["threats"][:3]):
        T = f"{S}/threats/{i}"
        if t["kind"] == "significant_decline":
            out.append(
                insight(
                    "",
                    "Threat: {brand} DC is declining ({slope} per period, Holm-adjusted {p}).",
                    [
                        cite(root, "brand", T + "/brand_name"),
                        cite(root, "slope", T + "/sen_slope", 2, True),
                        cite(root, "p", T + "/p_label"),
                    ],
                    0.8,
                )
            )
        else:
            out.append(
                insight(
                    "",
                    "Threat: {brand} may fall below DC {floor} by {period} (probability {p}).",
                    [
                        cite(root, "brand", T + "/brand_name"),
                        cite(root, "floor", T + "/floor", 0),
                        cite(root, "period", T + "/period"),
                        cite(root, "p", T + "/p", 2),
                    ],
                    t["p"],
                )
            )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    init = root["analysis"]["initiatives"]
    if not is_ok(init):
        return []
    out = []
    for key, b in init["brands"].items():
        B = join_pointer("analysis", "initiatives", "brands", key)
        if b["medium"]:
            out.append(
                recommendation(
                    "",
                    "{brand}: medium-term, run the knee plan: +{dc} DC for {effort} effort units over {n} metrics.",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "dc", B + "/medium/delta_dc", 2),
                        cite(root, "effort", B + "/medium/effort"),
                        cite(root, "n", B + "/medium/n_metrics_changed", 0),
                    ],
                    brand_id=int(key),
                    section=None,
                    expected_delta_dc=b["medium"]["delta_dc"],
                    effort=b["medium"]["effort"],
                    source=B + "/medium",
                    horizon="medium",
                )
            )
    return sorted(out, key=lambda r: -r["expected_delta_dc"])


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    table, why = opportunity_table(ctx)
    if why is None:
        out["priority_matrix"] = charts.scatter(
            "Priority matrix: DC gain vs effort per brand and metric",
            "/analysis/swot/opportunities",
            table["effort"].tolist(),
            table["gain"].tolist(),
            [ctx.name(b) for b in table["brand_id"]],
            x_label="effort units",
            y_label="ΔDC",
        )
    ms = a["milestones"]
    if is_ok(ms):
        first = next(iter(ms["brands"].values()))
        series = {}
        for b in ms["brands"].values():
            series[f"{b['brand_name']} forecast"] = b["forecast"]
            if b["with_plan"]:
                series[f"{b['brand_name']} with plan"] = b["with_plan"]
        out["milestones"] = charts.line(
            "Milestones: forecast and forecast with the knee plan",
            "/analysis/milestones",
            first["periods"],
            dict(list(series.items())[:10]),
            y_label="DC score",
            bands=TIER_BANDS,
        )
    return out


BUILDER = ReportBuilder(
    report_id="strategic_planning_insights",
    needs=REPORT_NEEDS["strategic_planning_insights"],
    blocks=(
        Block("swot", swot),
        Block("initiatives", initiatives, "standard"),
        Block("milestones", milestones, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Section p75", "/analysis/swot/section_p75"),
        Kpi("Section p25", "/analysis/swot/section_p25"),
    ],
)
