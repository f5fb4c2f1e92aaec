"""Report 8, sales_performance_correlation (SPEC §7 item 8): DC vs sales units, elasticity (% sales per DC
point from log sales), change correlation, month-of-year sales profile."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import corr_block
from dc_pipeline.domain.reports.blocks.slope import slope_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import (
    corr_of,
    correlation_insight,
    latest_series_labels,
    scatter_by_brand,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date

SALES = "sales_units"
MIN_CHANGE_PERIODS = 3
MIN_PROFILE_MONTHS = 24


def elasticity(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(SALES)
    obs = obs[obs[SALES] > 0].assign(log_sales=lambda d: np.log(d[SALES]))
    block = slope_block(obs, "dc", "log_sales", ctx.confidence_level, what="brand-periods with DC and sales > 0")
    if not is_ok(block):
        return block
    pct = {k: float(np.expm1(block["pooled"][k]) * 100) for k in ("slope", "ci_low", "ci_high")}
    within = block["within"]
    return {
        **block,
        "percent_per_point": pct,
        "within_percent_per_point": float(np.expm1(within["slope"]) * 100) if is_ok(within) else None,
    }


def change_correlation(ctx: ReportContext, _: dict) -> dict[str, Any]:
    p = ctx.observations(SALES)
    p = p[p[SALES] > 0].sort_values(["brand_id", "t"])
    counts = p.groupby("brand_id")["period"].transform("count")
    p = p[counts >= MIN_CHANGE_PERIODS]
    if p.empty:
        return insufficient(
            f"insufficient history: no brand has {MIN_CHANGE_PERIODS} periods with sales", 0, MIN_CHANGE_PERIODS
        )
    g = p.groupby("brand_id")
    d_dc, d_log = g["dc"].diff(), g[SALES].transform(lambda s: np.log(s).diff())
    return corr_block(d_dc, d_log, ctx.confidence_level, what="period changes (ΔDC, Δlog sales)")


def seasonal_profile(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(SALES)
    n = int(obs["period"].nunique())
    if ctx.data.grain != "month" or n < MIN_PROFILE_MONTHS:
        return insufficient(
            f"insufficient history: {n} {ctx.data.grain}ly periods, {MIN_PROFILE_MONTHS} monthly "
            "periods needed for a month-of-year profile",
            n,
            MIN_PROFILE_MONTHS,
        )
    rel = obs[SALES] / obs.groupby("brand_id")[SALES].transform("mean")
    by_month = rel.groupby(obs["period"].dt.month).mean()
    peak, trough = int(by_month.idxmax()), int(by_month.idxmin())
    return ok_block(
        definition="mean over brands of sales / the brand's mean sales, by calendar month",
        index={str(m): float(v) for m, v in by_month.items()},
        peak_month=str(peak),
        trough_month=str(trough),
        peak_index=float(by_month.max()),
        trough_index=float(by_month.min()),
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    c = correlation_insight(root, "/analysis/correlation", "DC and sales units move together:")
    if c:
        out.append(c)
    e = a["elasticity"]
    if is_ok(e):
        P = "/analysis/elasticity"
        sig = "significant" if e["significant"] else "not significant"
        out.append(
            insight(
                "",
                f"Each DC point goes with {{pct}} % sales units ({{level}}% CI {{lo}} to {{hi}}; {sig} "
                "at brand-clustered {p}).",
                [
                    cite(root, "pct", P + "/percent_per_point/slope", 2, signed=True),
                    cite(root, "level", P + "/confidence_percent", 0),
                    cite(root, "lo", P + "/percent_per_point/ci_low", 2),
                    cite(root, "hi", P + "/percent_per_point/ci_high", 2),
                    cite(root, "p", P + "/pooled/p_label"),
                ],
                min(1.0, abs(e["percent_per_point"]["slope"]) / 10 + 0.3),
            )
        )
    ch = a["change_correlation"]
    if is_ok(ch):
        out.append(
            insight(
                "",
                "Period-to-period, ΔDC and Δlog sales correlate at r = {r} over {n} changes.",
                [
                    cite(root, "r", "/analysis/change_correlation/pearson/r", 3),
                    cite(root, "n", "/analysis/change_correlation/n", 0),
                ],
                abs(ch["pearson"]["r"]) * 0.8,
            )
        )
    s = a["seasonal_profile"]
    if is_ok(s):
        out.append(
            insight(
                "",
                "Sales peak in month {peak} at {hi} times a brand's mean and bottom out in month {low} at {lo}.",
                [
                    cite(root, "peak", "/analysis/seasonal_profile/peak_month"),
                    cite(root, "hi", "/analysis/seasonal_profile/peak_index", 2),
                    cite(root, "low", "/analysis/seasonal_profile/trough_month"),
                    cite(root, "lo", "/analysis/seasonal_profile/trough_index", 2),
                ],
                s["peak_index"] - s["trough_index"],
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "dc_vs_sales": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            SALES,
            "dc",
            title="DC vs sales units",
            x_label="DC score",
            y_label="sales units",
        )
    }
    periods = latest_series_labels(ctx)
    p = ctx.panel.assign(label=ctx.panel["period"].map(iso_date))
    total = p.groupby("label")[SALES].sum(min_count=1)
    mean_dc = p.groupby("label")["dc"].mean()
    out["sales_and_dc"] = charts.line(
        "Portfolio sales units and mean DC over time",
        "/analysis/correlation",
        periods,
        {
            "sales units (all brands)": [
                float(total.get(x)) if x in total and not np.isnan(total.get(x)) else None for x in periods
            ]
        },
        y_label="sales units",
        secondary={"mean DC": [float(mean_dc[x]) for x in periods]},
        secondary_label="DC score",
        supports=["/analysis/elasticity"],
    )
    return out


BUILDER = ReportBuilder(
    report_id="sales_performance_correlation",
    needs=REPORT_NEEDS["sales_performance_correlation"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, SALES)),
        Block("elasticity", elasticity),
        Block("change_correlation", change_correlation),
        Block("seasonal_profile", seasonal_profile),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Pearson r (DC, sales)", "/analysis/correlation/pearson/r", "coefficient"),
        Kpi("% sales per DC point", "/analysis/elasticity/percent_per_point/slope", "coefficient"),
    ],
)
