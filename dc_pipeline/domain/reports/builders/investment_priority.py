"""Report 25, investment_priority_analysis (SPEC §7 item 25): priority per (brand, section) = ΔDC per effort unit
x outcome per DC point (when the outcome model is validated), ranked; the effort allocation of SPEC §8 (from
the portfolio input); where spend and revenue exist, historical spend per DC point (Δspend/ΔDC over period
pairs with |ΔDC| >= 0.5) and incremental revenue per incremental spend. NPV and payback are not produced: the
schema has no currency cost of an effort unit. Charts: ranked bars; allocation stacked bars.

ΔDC per effort unit of a section is its marginal rate: raising every one of the brand's metrics in the section
by one point adds e_sigma DC points and costs the SPEC §6c effort of that step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.recommendations.effort import effort as effort_of
from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.model_inputs import metric_rows, validated_effect
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.data import INPUTS
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation

MIN_DC_MOVE = 0.5
STEP = 1.0
NPV_REASON = (
    "NPV and payback are not produced: the schema has no currency cost of an effort unit (metrics.effort_cost is a "
    "relative multiplier), so effort cannot be discounted against revenue"
)


def priorities(ctx: ReportContext, _: dict) -> dict[str, Any]:
    rows = metric_rows(ctx)
    if rows.empty:
        why = "metric definitions not loaded" if ctx.data.metrics is None else "no scored metrics in the latest period"
        return unavailable_block("missing_input" if ctx.data.metrics is None else "insufficient_data", why, 0, 1)
    step = np.minimum(STEP, 100.0 - rows["directed_score"])
    rows = rows.assign(
        gain=rows["effective_weight"] * step,
        effort=effort_of(rows["directed_score"], step, rows["effort_cost"], rows["best_score"]),
    )
    by = rows[step > 0].groupby(["brand_id", "section_name"])[["gain", "effort"]].sum().reset_index()
    by["dc_per_effort"] = by["gain"] / by["effort"]
    effect = validated_effect(ctx, "revenue")
    by["revenue_per_effort"] = by["dc_per_effort"] * effect["estimate"] if effect else np.nan
    key = "revenue_per_effort" if effect else "dc_per_effort"
    by = by.sort_values([key, "brand_id", "section_name"], ascending=[False, True, True]).reset_index(drop=True)
    ranked = [
        {
            "rank": i + 1,
            "brand_id": int(r.brand_id),
            "brand_name": ctx.name(r.brand_id),
            "section": r.section_name,
            "delta_dc": float(r.gain),
            "effort": float(r.effort),
            "dc_per_effort": float(r.dc_per_effort),
            "revenue_per_effort": None if pd.isna(r.revenue_per_effort) else float(r.revenue_per_effort),
        }
        for i, r in enumerate(by.itertuples())
    ]
    return ok_block(
        step_points=STEP,
        ranked_by=key,
        outcome_per_dc_point=effect,
        outcome_status="validated revenue model" if effect else "no validated revenue model: ranked by ΔDC per effort",
        ranked=ranked,
    )


def allocation(ctx: ReportContext, _: dict) -> dict[str, Any]:
    portfolio = getattr(ctx.data, "portfolio", None)
    frame = (portfolio or {}).get("portfolio_allocation") if isinstance(portfolio, dict) else None
    if frame is None or len(frame) == 0:
        return unavailable_block(
            "missing_input",
            f"effort allocation (SPEC §8) not available for project {ctx.project_id}: "
            "materialize portfolio_analysis first",
            0,
            1,
        )
    own = frame[frame["project_id"] == ctx.project_id] if "project_id" in frame else frame
    rows = [
        {"brand_name": ctx.name(r["brand_id"]), **{k: r.get(k) for k in ("effort", "share_pct", "delta_dc")}}
        for r in own.sort_values("brand_id").to_dict("records")
    ]
    return ok_block(source="portfolio_allocation (SPEC §8)", brands=rows)


def spend_efficiency(ctx: ReportContext, _: dict) -> dict[str, Any]:
    panel = ctx.panel
    if "marketing_spend" not in panel or panel["marketing_spend"].isna().all():
        return unavailable_block("missing_input", "marketing_spend absent: no spend per DC point", 0, 1)
    brands, pooled_dc, pooled_rev = {}, [], []
    for brand_id, g in panel.dropna(subset=["marketing_spend"]).groupby("brand_id", sort=True):
        g = g.sort_values("t")
        d_dc, d_spend = np.diff(g["dc"].to_numpy(float)), np.diff(g["marketing_spend"].to_numpy(float))
        moved = np.abs(d_dc) >= MIN_DC_MOVE
        per_dc = d_spend[moved] / d_dc[moved]
        entry = {
            "brand_name": ctx.name(brand_id),
            "n_pairs": int(moved.sum()),
            "spend_per_dc_point": float(np.median(per_dc)) if per_dc.size else None,
        }
        if g["revenue"].notna().all():
            d_rev = np.diff(g["revenue"].to_numpy(float))
            spent = d_spend != 0
            ratio = d_rev[spent] / d_spend[spent]
            entry["incremental_revenue_per_spend"] = float(np.median(ratio)) if ratio.size else None
            entry["n_spend_changes"] = int(spent.sum())
            pooled_rev += list(ratio)
        pooled_dc += list(per_dc)
        brands[str(brand_id)] = entry
    if not pooled_dc:
        return unavailable_block(
            "insufficient_data", f"no period pair with |ΔDC| >= {MIN_DC_MOVE} and spend on both ends", 0, 1
        )
    return ok_block(
        min_dc_move=MIN_DC_MOVE,
        statistic="median over consecutive period pairs",
        spend_per_dc_point=float(np.median(pooled_dc)),
        n_pairs=len(pooled_dc),
        incremental_revenue_per_spend=float(np.median(pooled_rev)) if pooled_rev else None,
        n_spend_changes=len(pooled_rev),
        brands=brands,
    )


def npv_payback(ctx: ReportContext, _: dict) -> dict[str, Any]:
    return unavailable_block("missing_input", NPV_REASON, 0, 1, produced=False)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    p = a["priorities"]
    if is_ok(p) and p["ranked"]:
        P = "/analysis/priorities/ranked/0"
        if p["outcome_per_dc_point"]:
            out.append(
                insight(
                    "",
                    "Top priority: {section} for {brand}: {dc} DC per effort unit, worth {rev} revenue "
                    "per effort unit through the validated model.",
                    [
                        cite(root, "section", P + "/section"),
                        cite(root, "brand", P + "/brand_name"),
                        cite(root, "dc", P + "/dc_per_effort", 3),
                        cite(root, "rev", P + "/revenue_per_effort", 0),
                    ],
                    0.9,
                )
            )
        else:
            out.append(
                insight(
                    "",
                    "Top priority: {section} for {brand} at {dc} DC per effort unit (no validated "
                    "revenue model to value it).",
                    [
                        cite(root, "section", P + "/section"),
                        cite(root, "brand", P + "/brand_name"),
                        cite(root, "dc", P + "/dc_per_effort", 3),
                    ],
                    0.8,
                )
            )
        last = f"/analysis/priorities/ranked/{len(p['ranked']) - 1}"
        out.append(
            insight(
                "",
                "Lowest return: {section} for {brand} at {dc} DC per effort unit.",
                [
                    cite(root, "section", last + "/section"),
                    cite(root, "brand", last + "/brand_name"),
                    cite(root, "dc", last + "/dc_per_effort", 3),
                ],
                0.4,
            )
        )
    s = a["spend_efficiency"]
    if is_ok(s):
        figures = [
            cite(root, "spend", "/analysis/spend_efficiency/spend_per_dc_point", 0),
            cite(root, "n", "/analysis/spend_efficiency/n_pairs", 0),
        ]
        text = "Historically one DC point moved with {spend} of marketing spend (median over {n} period pairs)"
        if s["incremental_revenue_per_spend"] is not None:
            figures.append(cite(root, "roi", "/analysis/spend_efficiency/incremental_revenue_per_spend", 2))
            text += "; each extra unit of spend came with {roi} of extra revenue"
        out.append(insight("", text + ".", figures, 0.6))
    out.append(insight("", "{why}.", [cite(root, "why", "/analysis/npv_payback/reason")], 0.05))
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    p = root["analysis"]["priorities"]
    if not is_ok(p):
        return []
    out = []
    for i, r in enumerate(p["ranked"][:10]):
        P = f"/analysis/priorities/ranked/{i}"
        out.append(
            recommendation(
                "",
                "{brand}: invest effort in {section} first ({dc} DC per effort unit).",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "section", P + "/section"),
                    cite(root, "dc", P + "/dc_per_effort", 3),
                ],
                brand_id=r["brand_id"],
                section=r["section"],
                expected_delta_dc=r["delta_dc"],
                effort=r["effort"],
                source=P,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    p = a["priorities"]
    if is_ok(p):
        top = p["ranked"][:15]
        out["priorities"] = charts.bar(
            "Investment priority: ΔDC per effort unit by brand and section",
            "/analysis/priorities",
            [f"{r['brand_name']}: {r['section']}" for r in top],
            [r["dc_per_effort"] for r in top],
            y_label="ΔDC per effort unit",
            value_format="coefficient",
        )
    al = a["allocation"]
    if is_ok(al):
        out["allocation"] = charts.stacked_bar(
            "Effort allocation (SPEC §8)",
            "/analysis/allocation",
            [r["brand_name"] for r in al["brands"]],
            {"effort": [r.get("effort") for r in al["brands"]]},
            y_label="effort units",
        )
    return out


BUILDER = ReportBuilder(
    report_id="investment_priority_analysis",
    needs=REPORT_NEEDS["investment_priority_analysis"]
    & INPUTS,  # "portfolio" is read once ReportData carries SPEC §8's allocation
    blocks=(
        Block("priorities", priorities),
        Block("spend_efficiency", spend_efficiency),
        Block("npv_payback", npv_payback),
        Block("allocation", allocation, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Top priority section", "/analysis/priorities/ranked/0/section", "text"),
        Kpi("Spend per DC point", "/analysis/spend_efficiency/spend_per_dc_point", "money"),
        Kpi("Revenue per extra spend", "/analysis/spend_efficiency/incremental_revenue_per_spend", "coefficient"),
    ],
)
