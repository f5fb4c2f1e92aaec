"""Report 12, conversion_rate_optimization (SPEC §7 item 12): DC and sections against conversion rate, the
logit-scale slope converted to percentage points per DC point at the mean, gaps to the best brand and the
median, and conversion at each brand's knee plan.

The logit slope is b in logit(cr/100) = a + b·DC; at the mean conversion p̄ its derivative is
100·b·p̄(1 − p̄) pp per DC point. A plan moves one brand's DC, so the knee projection uses the within-brand
logit slope when there is one (the pooled slope also carries between-brand differences)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, logit

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.slope import slope_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import (
    corr_of,
    correlation_insight,
    outcome_model_block,
    scatter_by_brand,
    section_correlations,
)
from dc_pipeline.domain.reports.builders.plans import knee_plans, knee_response_recommendations
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

CR = "conversion_rate"
EDGE = 1e-4  # conversion share clipped to [EDGE, 1 - EDGE] before the logit


def _logit_frame(ctx: ReportContext):
    obs = ctx.observations(CR)
    return obs.assign(logit_cr=logit(np.clip(obs[CR] / 100, EDGE, 1 - EDGE)))


def logit_slope(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Slope of logit(cr/100) on DC, with its pp-per-point value (and CI) at the mean conversion."""
    frame = _logit_frame(ctx)
    block = slope_block(frame, "dc", "logit_cr", ctx.confidence_level, what="brand-periods with DC and conversion")
    if not is_ok(block):
        return block
    p = float(np.clip(frame[CR].mean() / 100, EDGE, 1 - EDGE))
    factor = 100 * p * (1 - p)
    within = block["within"]
    used = within if is_ok(within) else block["pooled"]
    return {
        **block,
        "mean_conversion": 100 * p,
        "pp_per_point_at_mean": {
            "pooled": block["pooled"]["slope"] * factor,
            "pooled_ci_low": block["pooled"]["ci_low"] * factor,
            "pooled_ci_high": block["pooled"]["ci_high"] * factor,
        },
        "projection_slope": {
            "source": "within-brand" if is_ok(within) else "pooled",
            "logit_slope": used["slope"],
            "ci_low": used["ci_low"],
            "ci_high": used["ci_high"],
            "significant": used["significant"],
        },
    }


def gaps(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(CR)
    latest = obs[obs["period"] == obs["period"].max()].set_index("brand_id")[CR]
    best_brand = int(latest.idxmax())
    median = float(latest.median())
    brands = {
        str(b): {
            "brand_name": ctx.name(b),
            "conversion_rate": float(v),
            "gap_to_best": float(latest.max() - v),
            "gap_to_median": float(v - median),
            "position_to_median": "above" if v > median else "below" if v < median else "at",
            "distance_to_median": abs(float(v - median)),
        }
        for b, v in latest.sort_values(ascending=False).items()
    }
    return ok_block(
        period=iso_date(obs["period"].max()),
        best_brand_id=best_brand,
        best_name=ctx.name(best_brand),
        best=float(latest.max()),
        median=median,
        brands=brands,
    )


def knee_conversion(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Conversion at each knee plan: 100·expit(logit(cr/100) + b·ΔDC), with the slope's CI carried through."""
    slope, knees, gap = done["logit_slope"], done["knee_plans"], done["gaps"]
    if not is_ok(slope):
        return insufficient(f"no logit slope: {slope.get('reason')}", 0, 1)
    if not is_ok(knees):
        return knees
    s = slope["projection_slope"]
    brands = {}
    for key, k in knees["brands"].items():
        if not is_ok(k) or key not in gap["brands"]:
            continue
        cr = gap["brands"][key]["conversion_rate"]
        base = logit(np.clip(cr / 100, EDGE, 1 - EDGE))
        at = [float(100 * expit(base + b * k["delta_dc"])) for b in (s["logit_slope"], s["ci_low"], s["ci_high"])]
        brands[key] = {
            "brand_name": k["brand_name"],
            "conversion_rate": cr,
            "knee_delta_dc": k["delta_dc"],
            "knee_effort": k["effort"],
            "conversion_at_knee": at[0],
            "change_pp": at[0] - cr,
            "change_ci_low": min(at[1:]) - cr,
            "change_ci_high": max(at[1:]) - cr,
        }
    return ok_block(slope_source=s["source"], slope_significant=s["significant"], brands=brands)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    c = correlation_insight(root, "/analysis/correlation", "DC and conversion rate move together:")
    if c:
        out.append(c)
    ls = a["logit_slope"]
    if is_ok(ls):
        P = "/analysis/logit_slope"
        word = "significant" if ls["significant"] else "not significant"
        out.append(
            insight(
                "",
                "At the mean conversion of {mean}%, each DC point adds {pp} pp of conversion ({level}% CI {lo} to "
                f"{{hi}}; logit slope {{b}}, {word} at brand-clustered {{p}}).",
                [
                    cite(root, "mean", P + "/mean_conversion", 2),
                    cite(root, "pp", P + "/pp_per_point_at_mean/pooled", 3),
                    cite(root, "lo", P + "/pp_per_point_at_mean/pooled_ci_low", 3),
                    cite(root, "hi", P + "/pp_per_point_at_mean/pooled_ci_high", 3),
                    cite(root, "level", P + "/confidence_percent", 0),
                    cite(root, "b", P + "/pooled/slope", 4),
                    cite(root, "p", P + "/pooled/p_label"),
                ],
                0.9,
            )
        )
    sec = a["section_correlations"]
    if sec.get("strongest"):
        P = f"/analysis/section_correlations/sections/{sec['strongest']}"
        out.append(
            insight(
                "",
                "Of the sections, {section} tracks conversion most closely (r = {r}).",
                [
                    cite(root, "section", "/analysis/section_correlations/strongest"),
                    cite(root, "r", P + "/pearson/r", 3),
                ],
                abs(sec["sections"][sec["strongest"]]["pearson"]["r"]) * 0.8,
            )
        )
    gap = a["gaps"]
    if is_ok(gap) and len(gap["brands"]) >= 2:
        key = max(gap["brands"], key=lambda k: gap["brands"][k]["gap_to_best"])
        B = join_pointer("analysis", "gaps", "brands", key)
        out.append(
            insight(
                "",
                f"{{brand}} converts {{cr}}%, {{gap}} pp below the best brand {{best}} and {{med}} pp "
                f"{gap['brands'][key]['position_to_median']} the median.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "cr", B + "/conversion_rate", 2),
                    cite(root, "gap", B + "/gap_to_best", 2),
                    cite(root, "best", "/analysis/gaps/best_name"),
                    cite(root, "med", B + "/distance_to_median", 2),
                ],
                min(1.0, gap["brands"][key]["gap_to_best"] / 2),
            )
        )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    return knee_response_recommendations(
        root, "knee_conversion", CR, "lift conversion", "conversion_rate", "conversion_at_knee"
    )


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "dc_vs_conversion": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            CR,
            "dc",
            title="DC vs conversion rate by brand",
            x_label="DC score",
            y_label="conversion rate (%)",
        )
    }
    gap = root["analysis"]["gaps"]
    if is_ok(gap):
        out["gap_to_best"] = charts.bar(
            f"Conversion gap to the best brand, {gap['period']} (pp)",
            "/analysis/gaps",
            [b["brand_name"] for b in gap["brands"].values()],
            [-b["gap_to_best"] for b in gap["brands"].values()],
            y_label="pp below the best",
            value_format="coefficient",
        )
    return out


BUILDER = ReportBuilder(
    report_id="conversion_rate_optimization",
    needs=REPORT_NEEDS["conversion_rate_optimization"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, CR)),
        Block("section_correlations", lambda ctx, _: section_correlations(ctx, CR)),
        Block("logit_slope", logit_slope),
        Block("gaps", gaps),
        Block("conversion_model", lambda ctx, _: outcome_model_block(ctx, CR), "standard"),
        Block("knee_plans", knee_plans, "standard"),
        Block("knee_conversion", knee_conversion, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Conversion pp per DC point", "/analysis/logit_slope/pp_per_point_at_mean/pooled", "coefficient"),
        Kpi("Best conversion (%)", "/analysis/gaps/best", "percent"),
        Kpi("Median conversion (%)", "/analysis/gaps/median", "percent"),
    ],
)
