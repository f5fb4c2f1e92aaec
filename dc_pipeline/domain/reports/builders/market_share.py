"""Report 4, market_share_impact (SPEC §7 item 4): DC vs share (pp per point), relative DC vs share,
residuals flagging over- and under-performers, HHI per period, the stored share model."""

from __future__ import annotations

from typing import Any

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import (
    corr_of,
    correlation_insight,
    outcome_model_block,
    scatter_by_brand,
    share_hhi,
    slope_insight,
    slope_of,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

OUTCOME = "market_share"
RESIDUAL_SD = 1.0  # |residual| above one residual sd flags an over- or under-performer


def _relative(ctx: ReportContext):
    obs = ctx.observations(OUTCOME)
    return obs.assign(relative_dc=obs["dc"] - obs.groupby("period")["dc"].transform("mean"))


def relative_dc(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Share against the brand's DC minus the cohort mean of its period."""
    rel = _relative(ctx)
    from dc_pipeline.domain.reports.blocks.correlation import corr_block

    return ok_block(
        correlation=corr_block(
            rel["relative_dc"],
            rel[OUTCOME],
            ctx.confidence_level,
            what="brand-periods with relative DC and market share",
        ),
        slope=slope_of(ctx, OUTCOME, "relative_dc", rel),
    )


def residuals(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Latest shares against the relative-DC fit (share is relative to the cohort, so is the predictor)."""
    slope = done["relative_dc"]["slope"]
    if not is_ok(slope):
        return {**slope}
    p = slope["pooled"]
    latest = _relative(ctx)
    latest = latest[latest["period"] == latest["period"].max()]
    sd = p["residual_sd"]
    brands = {}
    for r in latest.itertuples():
        fitted = p["intercept"] + p["slope"] * r.relative_dc
        resid = float(getattr(r, OUTCOME) - fitted)
        flag = (
            "over_performer"
            if resid > RESIDUAL_SD * sd
            else "under_performer"
            if resid < -RESIDUAL_SD * sd
            else "in_line"
        )
        brands[str(r.brand_id)] = {
            "brand_name": ctx.name(r.brand_id),
            "dc": float(r.dc),
            "share": float(getattr(r, OUTCOME)),
            "fitted_share": float(fitted),
            "residual": resid,
            "residual_abs": abs(resid),
            "flag": flag,
        }
    return ok_block(
        period=iso_date(latest["period"].max()),
        fit="share on relative DC (pooled)",
        residual_sd=sd,
        threshold_sd=RESIDUAL_SD,
        brands=brands,
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    for item in (
        correlation_insight(root, "/analysis/correlation", "DC and market share move together:"),
        slope_insight(
            root,
            "/analysis/slope",
            "Each DC point goes with {slope} pp of market share ({level}% CI {lo} to {hi}; {within_clause} {sig}).",
            3,
            0.85,
        ),
        slope_insight(
            root,
            "/analysis/relative_dc/slope",
            "A DC point above the cohort mean goes with {slope} pp of share ({level}% CI {lo} to {hi}; {sig}).",
            3,
            0.6,
        ),
    ):
        if item:
            out.append(item)
    res = a["residuals"]
    if is_ok(res):
        for key, b in res["brands"].items():
            if b["flag"] == "in_line":
                continue
            B = join_pointer("analysis", "residuals", "brands", key)
            word = "above" if b["flag"] == "over_performer" else "below"
            out.append(
                insight(
                    "",
                    f"{{brand}} holds {{share}} % share, {{gap}} pp {word} the {{fit}} % its relative DC predicts.",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "share", B + "/share"),
                        cite(root, "gap", B + "/residual_abs", 2),
                        cite(root, "fit", B + "/fitted_share"),
                    ],
                    min(1.0, abs(b["residual"]) / 10),
                )
            )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "dc_vs_share": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            OUTCOME,
            "dc",
            title="DC vs market share by brand",
            x_label="DC score",
            y_label="market share (%)",
            slope_path="/analysis/slope",
        )
    }
    res = root["analysis"]["residuals"]
    if is_ok(res):
        out["share_residuals"] = charts.bar(
            f"Share above or below the DC fit, {res['period']}",
            "/analysis/residuals",
            [b["brand_name"] for b in res["brands"].values()],
            [b["residual"] for b in res["brands"].values()],
            y_label="residual share (pp)",
            value_format="coefficient",
        )
    return out


BUILDER = ReportBuilder(
    report_id="market_share_impact",
    needs=REPORT_NEEDS["market_share_impact"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, OUTCOME)),
        Block("slope", lambda ctx, _: slope_of(ctx, OUTCOME)),
        Block("relative_dc", relative_dc),
        Block("residuals", residuals),
        Block("hhi", share_hhi),
        Block("share_model", lambda ctx, _: outcome_model_block(ctx, OUTCOME), "standard"),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Pearson r (DC, share)", "/analysis/correlation/pearson/r", "coefficient"),
        Kpi("Share pp per DC point", "/analysis/slope/pooled/slope", "coefficient"),
    ],
)
