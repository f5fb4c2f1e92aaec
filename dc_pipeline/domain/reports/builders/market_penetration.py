"""Report 15, market_penetration_strategy (SPEC §7 item 15): headroom = leader share − brand share, share
growth per period, the DC gain needed to close half the headroom through the share response per DC point
(builders/plans.relative_share_slope) and whether the brand's stored front reaches it, and how Organic
Performance and Socialwatch at the start of a period relate to the share growth over it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import corr_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import correlation_insight, f, latest_series_labels, missing_outcomes
from dc_pipeline.domain.reports.builders.growth import period_growth
from dc_pipeline.domain.reports.builders.plans import relative_share_slope, stored_plans
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

SHARE, SALES = "market_share", "sales_units"
CLOSE_FRACTION = 0.5
LEADING_SECTIONS = ("Organic Performance", "Socialwatch")


def _changes(ctx: ReportContext) -> pd.DataFrame:
    """Share change (pp) from each period to the next of the same brand, with the sections at its start."""
    obs = ctx.observations(SHARE).sort_values(["brand_id", "t"])
    nxt = obs.groupby("brand_id")[[SHARE, "t"]].shift(-1)
    keep = nxt["t"] - obs["t"] == 1
    return obs[keep].assign(share_change=(nxt[SHARE] - obs[SHARE])[keep])


def headroom(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(SHARE)
    latest = obs[obs["period"] == obs["period"].max()].set_index("brand_id")[SHARE].sort_values()
    leader = int(latest.idxmax())
    return ok_block(
        period=iso_date(obs["period"].max()),
        leader_brand_id=leader,
        leader_name=ctx.name(leader),
        leader_share=float(latest.max()),
        brands={
            str(b): {"brand_name": ctx.name(b), "share": float(v), "headroom": float(latest.max() - v)}
            for b, v in latest.items()
        },
    )


def share_growth(ctx: ReportContext, _: dict) -> dict[str, Any]:
    changes = _changes(ctx)
    if changes.empty:
        return insufficient("insufficient history: no brand has two consecutive periods with a share", 0, 2)
    brands = {
        str(b): {
            "brand_name": ctx.name(b),
            "n_changes": len(g),
            "mean_change_pp": float(g["share_change"].mean()),
            "latest_change_pp": float(g["share_change"].iloc[-1]),
            "series": [{"period": iso_date(p), "change_pp": float(c)} for p, c in zip(g["period"], g["share_change"])],
        }
        for b, g in changes.groupby("brand_id", sort=True)
    }
    return ok_block(definition="share(t+1) - share(t), percentage points, consecutive periods", brands=brands)


def dc_needed(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """ΔDC to close CLOSE_FRACTION of the headroom = that share gap / share pp per DC point; reached when the
    brand's stored front has a plan with at least that ΔDC (the cheapest such plan is named)."""
    room, slope = done["headroom"], done["share_slope"]
    if not is_ok(slope):
        return insufficient(f"no share response per DC point: {slope.get('reason')}", 0, 1)
    per_point = slope["pp_per_point"]
    if per_point["estimate"] <= 0:
        return insufficient(f"share does not rise with DC here ({per_point['estimate']:.3f} pp per point)", 0, 1)
    plans, missing = stored_plans(ctx)
    brands = {}
    for key, b in room["brands"].items():
        if b["headroom"] <= 0:
            continue
        need = CLOSE_FRACTION * b["headroom"] / per_point["estimate"]
        entry = {"brand_name": b["brand_name"], "share_gap_pp": CLOSE_FRACTION * b["headroom"], "delta_dc_needed": need}
        if missing:
            entry.update(front_checked=False, reason=missing["reason"])
        else:
            own = plans[plans["brand_id"] == int(key)]
            reach = own[own["delta_dc"] >= need].sort_values("effort")
            entry.update(
                front_checked=True,
                front_max_delta_dc=f(own["delta_dc"].max()) if len(own) else None,
                reachable=bool(len(reach)),
            )
            if len(reach):
                entry.update(
                    plan_id=int(reach["plan_id"].iloc[0]),
                    plan_delta_dc=float(reach["delta_dc"].iloc[0]),
                    plan_effort=float(reach["effort"].iloc[0]),
                )
        brands[key] = entry
    return ok_block(
        close_fraction=CLOSE_FRACTION,
        share_pp_per_point=per_point["estimate"],
        slope_significant=per_point["significant"],
        slope_used=slope["used"],
        brands=brands,
    )


def leading_sections(ctx: ReportContext, _: dict) -> dict[str, Any]:
    changes = _changes(ctx)
    return ok_block(
        definition="section score at the start of a period against the share change over it",
        sections={
            s: corr_block(
                changes[s], changes["share_change"], ctx.confidence_level, what=f"period changes with {s} and share"
            )
            for s in LEADING_SECTIONS
        },
    )


def sales_growth(ctx: ReportContext, _: dict) -> dict[str, Any]:
    if ctx.observations(SALES).empty:
        return missing_outcomes(ctx, SALES)
    return period_growth(ctx, SALES)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    need = a["dc_needed"]
    for key, b in need["brands"].items() if is_ok(need) else []:
        P = join_pointer("analysis", "dc_needed", "brands", key)
        if not b.get("front_checked"):
            continue
        verdict = "its stored plans reach it" if b["reachable"] else "no stored plan reaches it (front max +{max})"
        figures = [
            cite(root, "brand", P + "/brand_name"),
            cite(root, "gap", P + "/share_gap_pp", 2),
            cite(root, "need", P + "/delta_dc_needed", 2),
        ]
        if not b["reachable"] and b["front_max_delta_dc"] is not None:
            figures.append(cite(root, "max", P + "/front_max_delta_dc", 2))
        elif not b["reachable"]:
            verdict = "no plans are stored for it"
        out.append(
            insight(
                "",
                "Closing half of {brand}'s share headroom ({gap} pp) takes about +{need} DC; " + verdict + ".",
                figures,
                min(1.0, b["share_gap_pp"] / 10),
            )
        )
    growth = a["share_growth"]
    if is_ok(growth):
        key = max(growth["brands"], key=lambda k: growth["brands"][k]["mean_change_pp"])
        B = join_pointer("analysis", "share_growth", "brands", key)
        out.append(
            insight(
                "",
                "{brand} gains share fastest: {mean} pp per period on average over {n} period(s).",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "mean", B + "/mean_change_pp", 3, True),
                    cite(root, "n", B + "/n_changes", 0),
                ],
                min(1.0, abs(growth["brands"][key]["mean_change_pp"]) * 2),
            )
        )
    for s in LEADING_SECTIONS:
        item = correlation_insight(
            root,
            join_pointer("analysis", "leading_sections", "sections", s),
            f"{s} at the start of a period and the share gained over it:",
        )
        if item:
            out.append({**item, "priority": item["priority"] * 0.7})
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    need = root["analysis"]["dc_needed"]
    if not is_ok(need) or not need["slope_significant"]:
        return []
    out = []
    reachable = {k: b for k, b in need["brands"].items() if b.get("reachable")}
    for key, b in sorted(reachable.items(), key=lambda kb: kb[1]["plan_effort"]):
        P = join_pointer("analysis", "dc_needed", "brands", key)
        out.append(
            recommendation(
                "",
                "{brand}: plan {plan} (+{dc} DC for {effort} effort units) is the cheapest stored plan that "
                "closes half of the share headroom ({gap} pp).",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "plan", P + "/plan_id", 0),
                    cite(root, "dc", P + "/plan_delta_dc", 2),
                    cite(root, "effort", P + "/plan_effort"),
                    cite(root, "gap", P + "/share_gap_pp", 2),
                ],
                brand_id=int(key),
                section=None,
                expected_delta_dc=b["plan_delta_dc"],
                effort=b["plan_effort"],
                source=P,
                outcome_impact={"outcome": SHARE, "estimate": b["share_gap_pp"]},
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    room = a["headroom"]
    if is_ok(room):
        out["headroom"] = charts.bar(
            f"Share headroom to leader {room['leader_name']}, {room['period']} (pp)",
            "/analysis/headroom",
            [b["brand_name"] for b in room["brands"].values()],
            [b["headroom"] for b in room["brands"].values()],
            y_label="leader share minus brand share (pp)",
            value_format="coefficient",
        )
    periods = latest_series_labels(ctx)
    obs = ctx.observations(SHARE)
    out["share_trajectories"] = charts.line(
        "Market share over time",
        "/analysis/share_growth",
        periods,
        {
            ctx.name(b): [dict(zip(g["period"].map(iso_date), g[SHARE])).get(p) for p in periods]
            for b, g in obs.groupby("brand_id")
        },
        y_label="market share (%)",
    )
    return out


BUILDER = ReportBuilder(
    report_id="market_penetration_strategy",
    needs=REPORT_NEEDS["market_penetration_strategy"],
    blocks=(
        Block("headroom", headroom),
        Block("share_growth", share_growth),
        Block("share_slope", lambda ctx, _: relative_share_slope(ctx)),
        Block("dc_needed", dc_needed, "standard"),
        Block("leading_sections", leading_sections),
        Block("sales_growth", sales_growth),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Leader share (%)", "/analysis/headroom/leader_share", "percent"),
        Kpi("Share pp per relative DC point", "/analysis/share_slope/pp_per_point/estimate", "coefficient"),
    ],
)
