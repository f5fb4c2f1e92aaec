"""What the business-outcome reports read from the stored models and plans (SPEC §6a, §6c): each brand's
Pareto plans and knee plan from brand_recommendations, and the outcome per DC point with its interval from
the validated 6a model, else from the slope block. Nothing is refitted here."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dc_pipeline.domain.reports.blocks.slope import slope_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.insights import cite, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

PLANS, SUMMARIES = "brand_recommendation_plans", "brand_recommendation_summaries"


def stored_plans(ctx: ReportContext) -> tuple[pd.DataFrame | None, dict[str, Any] | None]:
    """(the project's stored plans of the report's brands, None) or (None, the missing_input block)."""
    rec = ctx.data.recommendations
    if rec is None:
        return None, unavailable_block(
            "missing_input", f"recommendation plans not loaded for project {ctx.project_id}", 0, 1
        )
    plans = rec.get(PLANS)
    if plans is None or plans.empty:
        return None, unavailable_block(
            "missing_input",
            f"no recommendation plans stored for project {ctx.project_id}: materialize brand_recommendations",
            0,
            1,
        )
    return plans[plans["brand_id"].isin(ctx.names)], None


def _summary_reason(ctx: ReportContext, brand_id: int) -> str:
    summaries = (ctx.data.recommendations or {}).get(SUMMARIES)
    if summaries is not None and len(summaries):
        row = summaries[summaries["brand_id"] == brand_id]
        if len(row) and pd.notna(row["reason"].iloc[0]):
            return str(row["reason"].iloc[0])
    return f"no plans stored for {ctx.name(brand_id)}"


def knee_plans(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Per brand: the knee plan of its stored front (ΔDC, effort, metrics changed), or why there is none."""
    plans, missing = stored_plans(ctx)
    if missing:
        return missing
    brands = {}
    for brand_id in sorted(ctx.names):
        knee = plans[(plans["brand_id"] == brand_id) & plans["is_knee"].astype(bool)]
        if knee.empty:
            brands[str(brand_id)] = {
                "brand_name": ctx.name(brand_id),
                **insufficient(_summary_reason(ctx, brand_id), 0, 1),
            }
            continue
        k = knee.iloc[0]
        brands[str(brand_id)] = ok_block(
            brand_name=ctx.name(brand_id),
            plan_id=int(k["plan_id"]),
            period=iso_date(k["period"]),
            delta_dc=float(k["delta_dc"]),
            effort=float(k["effort"]),
            n_metrics_changed=int(k["n_metrics_changed"]),
        )
    return ok_block(source="brand_recommendations (stored NSGA-II fronts, SPEC 6c)", brands=brands)


def per_point(model: dict[str, Any], slope: dict[str, Any], outcome: str) -> dict[str, Any]:
    """Outcome change per DC point: the validated 6a model's estimate and CI; else the slope block's
    within-brand slope (what one brand's own DC change goes with), else its pooled slope (which also carries
    between-brand differences, so it is the last resort)."""
    if is_ok(model) and model["model_validated"] and model["outcome_per_dc_point"]["estimate"] is not None:
        effect = model["outcome_per_dc_point"]
        return ok_block(
            outcome=outcome,
            source="validated outcome model (SPEC 6a)",
            estimate=effect["estimate"],
            ci_low=effect["ci_low"],
            ci_high=effect["ci_high"],
            level=effect["level"],
            model_id=model.get("model_id"),
        )
    if not is_ok(slope):
        return {**slope, "outcome": outcome}
    why = model.get("validation_reason") or model.get("reason") or "not validated"
    within = slope["within"]
    used, kind = (within, "within-brand") if is_ok(within) else (slope["pooled"], "pooled")
    return ok_block(
        outcome=outcome,
        source=f"{kind} slope (outcome model not used: {why})",
        estimate=used["slope"],
        ci_low=used["ci_low"],
        ci_high=used["ci_high"],
        level=slope["confidence_level"],
        significant=used["significant"],
        model_id=None,
    )


def scaled(delta_dc: float, point: dict[str, Any]) -> dict[str, float]:
    """ΔDC times the per-point estimate and interval (ΔDC >= 0 keeps the bounds in order)."""
    low, high = sorted((delta_dc * point["ci_low"], delta_dc * point["ci_high"]))
    return {"estimate": delta_dc * point["estimate"], "ci_low": low, "ci_high": high}


def relative_share_slope(ctx: ReportContext) -> dict[str, Any]:
    """Slope of market share on relative DC (the brand's DC minus its period's cohort mean), pooled and within
    brands. Share is relative to the cohort, and a plan moves one brand's DC while the others stay put, so the
    within-brand slope on relative DC is the share response a plan can expect; the pooled slope also carries
    the between-brand differences (a bigger brand is not bigger because of its DC alone)."""
    obs = ctx.observations("market_share")
    rel = obs.assign(relative_dc=obs["dc"] - obs.groupby("period")["dc"].transform("mean"))
    block = slope_block(
        rel, "relative_dc", "market_share", ctx.confidence_level, what="brand-periods with relative DC and share"
    )
    if not is_ok(block):
        return block
    within = block["within"]
    used = within if is_ok(within) else block["pooled"]
    return {
        **block,
        "used": "within-brand" if is_ok(within) else "pooled (no within-brand slope: " + str(within["reason"]) + ")",
        "pp_per_point": {
            "estimate": used["slope"],
            "ci_low": used["ci_low"],
            "ci_high": used["ci_high"],
            "p": used["p"],
            "p_label": used["p_label"],
            "significant": used["significant"],
        },
    }


def knee_response_recommendations(
    root: dict, block: str, outcome: str, verb: str, now_field: str, at_field: str
) -> list[dict[str, Any]]:
    """One recommendation per brand, largest change first: its knee plan and the outcome (in percent, with the
    change's interval in pp) that the stored response slope expects at it. None when the slope is not
    significant: a response that is not shown supports no plan."""
    responses = root["analysis"][block]
    if not is_ok(responses) or not responses["slope_significant"]:
        return []
    out = []
    for key, b in sorted(responses["brands"].items(), key=lambda kb: -kb[1]["change_pp"]):
        P = join_pointer("analysis", block, "brands", key)
        out.append(
            recommendation(
                "",
                "{brand}: the knee plan (+{dc} DC, {effort} effort units) would " + verb + " from {now}% to about "
                "{at}% ({lo} to {hi} pp).",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "dc", P + "/knee_delta_dc", 2),
                    cite(root, "effort", P + "/knee_effort"),
                    cite(root, "now", P + "/" + now_field, 2),
                    cite(root, "at", P + "/" + at_field, 2),
                    cite(root, "lo", P + "/change_ci_low", 2, True),
                    cite(root, "hi", P + "/change_ci_high", 2, True),
                ],
                brand_id=int(key),
                section=None,
                expected_delta_dc=b["knee_delta_dc"],
                effort=b["knee_effort"],
                source=P,
                outcome_impact={
                    "outcome": outcome,
                    "estimate": b["change_pp"],
                    "ci_low": b["change_ci_low"],
                    "ci_high": b["change_ci_high"],
                },
            )
        )
    return out
