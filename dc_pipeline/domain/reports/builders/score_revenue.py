"""Report 3, score_revenue_correlation (SPEC §7 item 3): DC vs revenue (corr, revenue per DC point pooled
and within brands), per-section and per-brand correlations, lagged correlation, the stored revenue model."""

from __future__ import annotations

from typing import Any

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import corr_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import (
    corr_of,
    correlation_insight,
    outcome_model_block,
    scatter_by_brand,
    section_correlations,
    slope_insight,
    slope_of,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.source_tables import SECTIONS

MIN_BRAND_PERIODS = 5
MIN_LAG_PERIODS = 6
OUTCOME = "revenue"


def per_brand(ctx: ReportContext, outcome: str) -> dict[str, Any]:
    """corr per brand with >= 5 periods of DC and the outcome."""
    obs = ctx.observations(outcome)
    brands = {
        str(b): {
            "brand_name": ctx.name(b),
            **corr_block(
                g["dc"], g[outcome], ctx.confidence_level, what=f"periods of {ctx.name(b)}", min_n=MIN_BRAND_PERIODS
            ),
        }
        for b, g in obs.groupby("brand_id", sort=True)
    }
    return ok_block(outcome=outcome, min_periods=MIN_BRAND_PERIODS, brands=brands)


def lagged(ctx: ReportContext, outcome: str) -> dict[str, Any]:
    """corr of DC_t with outcome_{t+1} within brands, pooled."""
    n_periods = int(ctx.panel["period"].nunique())
    if n_periods < MIN_LAG_PERIODS:
        return insufficient(
            f"insufficient history: {n_periods} periods, {MIN_LAG_PERIODS} needed for a lagged correlation",
            n_periods,
            MIN_LAG_PERIODS,
        )
    p = ctx.panel.sort_values(["brand_id", "t"])
    nxt = p.groupby("brand_id")[outcome].shift(-1)
    consecutive = p.groupby("brand_id")["t"].shift(-1) - p["t"] == 1
    keep = consecutive & nxt.notna()
    return corr_block(
        p.loc[keep, "dc"], nxt[keep], ctx.confidence_level, what="(DC_t, next-period pairs)", lag_periods=1
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    c = correlation_insight(root, "/analysis/correlation", "DC and revenue move together:")
    if c:
        out.append(c)
    s = slope_insight(
        root,
        "/analysis/slope",
        "Revenue per DC point is {slope} ({level}% CI {lo} to {hi}; {within_clause} {sig}).",
        0,
        0.9,
    )
    if s:
        out.append(s)
    sec = a["section_correlations"]
    if sec.get("strongest"):
        P = f"/analysis/section_correlations/sections/{sec['strongest']}"
        out.append(
            insight(
                "",
                "Of the sections, {section} tracks revenue most closely (r = {r}).",
                [
                    cite(root, "section", "/analysis/section_correlations/strongest"),
                    cite(root, "r", P + "/pearson/r", 3),
                ],
                abs(sec["sections"][sec["strongest"]]["pearson"]["r"]) * 0.8,
            )
        )
    lag = a["lagged_correlation"]
    if is_ok(lag):
        out.append(
            insight(
                "",
                "DC leads next-period revenue with r = {r} over {n} brand-period pairs.",
                [
                    cite(root, "r", "/analysis/lagged_correlation/pearson/r", 3),
                    cite(root, "n", "/analysis/lagged_correlation/n", 0),
                ],
                abs(lag["pearson"]["r"]) * 0.7,
            )
        )
    model = a["revenue_model"]
    if is_ok(model) and model["outcome_per_dc_point"]["estimate"] is not None:
        P = "/analysis/revenue_model"
        word = "validated" if model["model_validated"] else "not validated"
        out.append(
            insight(
                "",
                f"The tuned revenue model ({word}, skill {{skill}}) puts revenue per DC point at {{est}}.",
                [cite(root, "skill", P + "/skill", 3), cite(root, "est", P + "/outcome_per_dc_point/estimate", 0)],
                0.6 if model["model_validated"] else 0.3,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "dc_vs_revenue": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            OUTCOME,
            "dc",
            title="DC vs revenue by brand",
            x_label="DC score",
            y_label="revenue",
            slope_path="/analysis/slope",
        )
    }
    sec = root["analysis"]["section_correlations"]["sections"]
    out["section_correlations"] = charts.bar(
        "Pearson r of each section with revenue",
        "/analysis/section_correlations",
        list(SECTIONS),
        [b["pearson"]["r"] if is_ok(b) else None for b in sec.values()],
        y_label="Pearson r",
        value_format="coefficient",
    )
    return out


BUILDER = ReportBuilder(
    report_id="score_revenue_correlation",
    needs=REPORT_NEEDS["score_revenue_correlation"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, OUTCOME)),
        Block("slope", lambda ctx, _: slope_of(ctx, OUTCOME)),
        Block("section_correlations", lambda ctx, _: section_correlations(ctx, OUTCOME)),
        Block("brand_correlations", lambda ctx, _: per_brand(ctx, OUTCOME)),
        Block("lagged_correlation", lambda ctx, _: lagged(ctx, OUTCOME)),
        Block("revenue_model", lambda ctx, _: outcome_model_block(ctx, OUTCOME), "standard"),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Pearson r (DC, revenue)", "/analysis/correlation/pearson/r", "coefficient"),
        Kpi("Revenue per DC point", "/analysis/slope/pooled/slope", "money"),
        Kpi("Within-brand revenue per DC point", "/analysis/slope/within/slope", "money"),
    ],
)
