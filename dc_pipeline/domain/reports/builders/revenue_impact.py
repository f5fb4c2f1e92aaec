"""Report 9, revenue_impact_optimization (SPEC §7 item 9): revenue per DC point (the validated 6a model, else
the slope block), each brand's stored Pareto plans with their revenue change and CI, revenue change per
effort unit, period growth rates and revenue shares."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import f, outcome_model_block, slope_of
from dc_pipeline.domain.reports.builders.growth import period_growth
from dc_pipeline.domain.reports.builders.plans import per_point, scaled, stored_plans
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

OUTCOME = "revenue"


def revenue_shares(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(OUTCOME)
    periods = sorted(obs["period"].unique())
    latest = obs[obs["period"] == periods[-1]].set_index("brand_id")[OUTCOME]
    previous = obs[obs["period"] == periods[-2]].set_index("brand_id")[OUTCOME] if len(periods) > 1 else None
    share = latest / latest.sum() * 100
    before = previous / previous.sum() * 100 if previous is not None else None
    return ok_block(
        period=iso_date(periods[-1]),
        total=float(latest.sum()),
        brands={
            str(b): {
                "brand_name": ctx.name(b),
                "revenue": float(latest[b]),
                "share_pct": float(share[b]),
                "share_change_pp": f(share[b] - before[b]) if before is not None and b in before else None,
            }
            for b in share.sort_values(ascending=False).index
        },
    )


def plan_revenue(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Every stored plan with its revenue change (ΔDC × revenue per DC point, with the CI) per effort unit."""
    point = done["revenue_per_dc_point"]
    if not is_ok(point):
        return insufficient(f"no revenue per DC point: {point.get('reason')}", 0, 1)
    plans, missing = stored_plans(ctx)
    if missing:
        return missing
    brands = {}
    for b, g in plans.sort_values(["brand_id", "effort"]).groupby("brand_id", sort=True):
        rows = []
        for r in g.itertuples():
            change = scaled(float(r.delta_dc), point)
            rows.append(
                {
                    "plan_id": int(r.plan_id),
                    "is_knee": bool(r.is_knee),
                    "delta_dc": float(r.delta_dc),
                    "effort": float(r.effort),
                    "revenue_change": change,
                    "revenue_per_effort": change["estimate"] / r.effort if r.effort > 0 else None,
                }
            )
        knee = next((i for i, r in enumerate(rows) if r["is_knee"]), None)
        best = int(np.nanargmax([r["revenue_per_effort"] or np.nan for r in rows]))
        brands[str(b)] = {
            "brand_name": ctx.name(b),
            "plans": rows,
            "knee_index": knee,
            "knee": rows[knee] if knee is not None else None,
            "best_ratio_index": best,
            "best_ratio": rows[best],
        }
    return ok_block(per_point_source=point["source"], level=point["level"], brands=brands)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    point = a["revenue_per_dc_point"]
    if is_ok(point):
        P = "/analysis/revenue_per_dc_point"
        out.append(
            insight(
                "",
                "Each DC point is worth {est} in revenue per brand-period ({level}% interval {lo} to {hi}; "
                "from the {source}).",
                [
                    cite(root, "est", P + "/estimate", 0),
                    cite(root, "lo", P + "/ci_low", 0),
                    cite(root, "hi", P + "/ci_high", 0),
                    cite(root, "level", P + "/level_percent", 0),
                    cite(root, "source", P + "/source"),
                ],
                0.9,
            )
        )
    plans = a["plan_revenue"]
    if is_ok(plans):
        key = _headline_brand(plans)
        if key is not None:
            P = join_pointer("analysis", "plan_revenue", "brands", key, "knee")
            out.append(
                insight(
                    "",
                    "{brand}'s knee plan adds {dc} DC points for {effort} effort units, worth {rev} in revenue "
                    "per period ({lo} to {hi}).",
                    [
                        cite(root, "brand", join_pointer("analysis", "plan_revenue", "brands", key, "brand_name")),
                        cite(root, "dc", P + "/delta_dc", 2),
                        cite(root, "effort", P + "/effort"),
                        cite(root, "rev", P + "/revenue_change/estimate", 0),
                        cite(root, "lo", P + "/revenue_change/ci_low", 0),
                        cite(root, "hi", P + "/revenue_change/ci_high", 0),
                    ],
                    0.85,
                )
            )
    growth = a["growth"]
    if is_ok(growth):
        ranked = [k for k, b in growth["brands"].items() if b["latest_growth_pct"] is not None]
        if ranked:
            key = max(ranked, key=lambda k: growth["brands"][k]["latest_growth_pct"])
            B = join_pointer("analysis", "growth", "brands", key)
            out.append(
                insight(
                    "",
                    "{brand} grew revenue fastest in the latest period: {g}% (its mean {m}% per period).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "g", B + "/latest_growth_pct", 1, True),
                        cite(root, "m", B + "/mean_growth_pct", 1, True),
                    ],
                    min(1.0, abs(growth["brands"][key]["latest_growth_pct"]) / 20),
                )
            )
        if growth["portfolio"]["latest_growth_pct"] is not None:
            out.append(
                insight(
                    "",
                    "Portfolio revenue changed by {g}% in the latest period, to {total}.",
                    [
                        cite(root, "g", "/analysis/growth/portfolio/latest_growth_pct", 1, True),
                        cite(root, "total", "/analysis/revenue_shares/total", 0),
                    ],
                    min(1.0, abs(growth["portfolio"]["latest_growth_pct"]) / 20),
                )
            )
    shares = a["revenue_shares"]
    if is_ok(shares):
        key = next(iter(shares["brands"]))
        B = join_pointer("analysis", "revenue_shares", "brands", key)
        out.append(
            insight(
                "",
                "{brand} brings {share}% of the portfolio's revenue ({rev} in {period}).",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "share", B + "/share_pct"),
                    cite(root, "rev", B + "/revenue", 0),
                    cite(root, "period", "/analysis/revenue_shares/period"),
                ],
                shares["brands"][key]["share_pct"] / 100,
            )
        )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    plans = root["analysis"]["plan_revenue"]
    if not is_ok(plans):
        return []
    out = []
    ranked = sorted(
        (k for k, b in plans["brands"].items() if b["knee"] and b["knee"]["revenue_per_effort"] is not None),
        key=lambda k: -plans["brands"][k]["knee"]["revenue_per_effort"],
    )
    for key in ranked:
        knee = plans["brands"][key]["knee"]
        P = join_pointer("analysis", "plan_revenue", "brands", key)
        change = knee["revenue_change"]
        # An interval that holds zero cannot promise revenue: the plan is still worth its DC, the money is unproven.
        bounded = all(math.isfinite(change[k]) for k in ("ci_low", "ci_high"))
        unproven = bounded and change["ci_low"] <= 0 <= change["ci_high"]
        out.append(
            recommendation(
                "",
                "{brand}: carry out knee plan {plan} (+{dc} DC for {effort} effort units); expected revenue change "
                "{rev} per period"
                + (" ({level}% interval {lo} to {hi})" if bounded else "")
                + ", {ratio} per effort unit."
                + (" The interval includes zero: the revenue gain is not yet shown." if unproven else ""),
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "plan", P + "/knee/plan_id", 0),
                    cite(root, "dc", P + "/knee/delta_dc", 2),
                    cite(root, "effort", P + "/knee/effort"),
                    cite(root, "rev", P + "/knee/revenue_change/estimate", 0),
                    cite(root, "ratio", P + "/knee/revenue_per_effort", 0),
                ]
                + (
                    [
                        cite(root, "lo", P + "/knee/revenue_change/ci_low", 0),
                        cite(root, "hi", P + "/knee/revenue_change/ci_high", 0),
                        cite(root, "level", "/analysis/revenue_per_dc_point/level_percent", 0),
                    ]
                    if bounded
                    else []
                ),
                brand_id=int(key),
                section=None,
                expected_delta_dc=knee["delta_dc"],
                effort=knee["effort"],
                source=P + "/knee",
                outcome_impact={"outcome": OUTCOME, **knee["revenue_change"]},
            )
        )
    return out


def _headline_brand(plans: dict) -> str | None:
    """The brand whose knee plan is worth the most revenue: the knee insight names it and the Pareto chart
    shows its front, so the chart stands beside the insight."""
    knees = {k: b for k, b in plans["brands"].items() if b["knee"]}
    return max(knees, key=lambda k: knees[k]["knee"]["revenue_change"]["estimate"]) if knees else None


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    plans = a["plan_revenue"]
    if is_ok(plans) and (key := _headline_brand(plans)):
        b = plans["brands"][key]
        highlight = {"knee": b["knee_index"]} if b["knee_index"] is not None else {}
        out["pareto_front"] = charts.pareto(
            f"Pareto plans of {b['brand_name']}: DC gain against effort",
            join_pointer("analysis", "plan_revenue", "brands", key),
            [p["effort"] for p in b["plans"]],
            [p["delta_dc"] for p in b["plans"]],
            highlight={**highlight, "best revenue per effort": b["best_ratio_index"]},
        )
    shares = a["revenue_shares"]
    if is_ok(shares):
        out["revenue_by_brand"] = charts.bar(
            f"Revenue by brand, {shares['period']}",
            "/analysis/revenue_shares",
            [b["brand_name"] for b in shares["brands"].values()],
            [b["revenue"] for b in shares["brands"].values()],
            y_label="revenue",
            value_format="money",
        )
    growth = a["growth"]
    if is_ok(growth):
        out["growth"] = charts.bar(
            "Revenue growth in the latest period (%)",
            "/analysis/growth",
            [b["brand_name"] for b in growth["brands"].values()],
            [b["latest_growth_pct"] for b in growth["brands"].values()],
            y_label="growth (%)",
            value_format="coefficient",
        )
    return out


def _with_percent(block: dict[str, Any]) -> dict[str, Any]:
    return {**block, "level_percent": round(100 * block["level"])} if is_ok(block) else block


BUILDER = ReportBuilder(
    report_id="revenue_impact_optimization",
    needs=REPORT_NEEDS["revenue_impact_optimization"],
    blocks=(
        Block("slope", lambda ctx, _: slope_of(ctx, OUTCOME)),
        Block("revenue_model", lambda ctx, _: outcome_model_block(ctx, OUTCOME), "standard"),
        Block(
            "revenue_per_dc_point",
            lambda ctx, done: _with_percent(per_point(done["revenue_model"], done["slope"], OUTCOME)),
        ),
        Block("plan_revenue", plan_revenue, "standard"),
        Block("growth", lambda ctx, _: period_growth(ctx, OUTCOME)),
        Block("revenue_shares", revenue_shares),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Revenue per DC point", "/analysis/revenue_per_dc_point/estimate", "money"),
        Kpi("Portfolio revenue, latest period", "/analysis/revenue_shares/total", "money"),
        Kpi("Portfolio revenue growth (%)", "/analysis/growth/portfolio/latest_growth_pct", "percent"),
    ],
)
