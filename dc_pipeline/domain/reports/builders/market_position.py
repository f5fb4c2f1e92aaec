"""Report 10, market_position_enhancement (SPEC §7 item 10): relative share and position labels, share
momentum, section gaps to the share leader, the share at each brand's knee plan via the share slope, HHI."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import p_label
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import f, share_hhi
from dc_pipeline.domain.reports.builders.plans import knee_plans, knee_response_recommendations, relative_share_slope
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

OUTCOME = "market_share"
POSITIONS = ((1.0, "leader"), (0.6, "challenger"), (0.3, "follower"))  # relative share floors, else niche
MOMENTUM_PERIODS = 6


def position(relative_share: float) -> str:
    return next((label for floor, label in POSITIONS if relative_share >= floor), "niche")


def _latest(ctx: ReportContext):
    obs = ctx.observations(OUTCOME)
    return obs[obs["period"] == obs["period"].max()].set_index("brand_id")


def relative_share(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """RS = share / the largest share among the other brands (SPEC: leader >= 1, challenger >= 0.6,
    follower >= 0.3, else niche)."""
    latest = _latest(ctx)
    if len(latest) < 2:
        return insufficient(
            f"insufficient brands: {len(latest)} with a share in the latest period, 2 needed", len(latest), 2
        )
    brands = {}
    for b, share in latest[OUTCOME].sort_values(ascending=False).items():
        largest_other = float(latest[OUTCOME].drop(b).max())
        rs = float(share) / largest_other if largest_other > 0 else np.inf
        brands[str(b)] = {
            "brand_name": ctx.name(b),
            "share": float(share),
            "largest_other_share": largest_other,
            "relative_share": rs,
            "position": position(rs),
            "dc": float(latest.at[b, "dc"]),
        }
    counts = {
        label: sum(b["position"] == label for b in brands.values())
        for label in ("leader", "challenger", "follower", "niche")
    }
    leader = next(iter(brands))
    return ok_block(period=iso_date(latest["period"].iloc[0]), share_leader=leader, positions=counts, brands=brands)


def momentum(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Share change vs the previous period and the OLS slope of share over the last MOMENTUM_PERIODS periods."""
    obs = ctx.observations(OUTCOME).sort_values(["brand_id", "t"])
    brands = {}
    for b, g in obs.groupby("brand_id", sort=True):
        recent = g.tail(MOMENTUM_PERIODS)
        change = g[OUTCOME].diff().iloc[-1]
        entry = {
            "brand_name": ctx.name(b),
            "share": float(g[OUTCOME].iloc[-1]),
            "n_periods": len(recent),
            "change_vs_previous": f(change),
        }
        if len(recent) >= 3:
            fit = stats.linregress(recent["t"], recent[OUTCOME])
            entry.update(
                slope_per_period=float(fit.slope),
                slope_p=float(fit.pvalue),
                slope_p_label=p_label(fit.pvalue),
                direction="gaining"
                if fit.pvalue < ctx.alpha and fit.slope > 0
                else "losing"
                if fit.pvalue < ctx.alpha
                else "stable",
            )
        else:
            entry.update(
                slope_per_period=None,
                slope_p=None,
                direction=None,
                reason=f"insufficient history: {len(recent)} periods, 3 needed for a share slope",
            )
        brands[str(b)] = entry
    return ok_block(window_periods=MOMENTUM_PERIODS, brands=brands)


def section_gaps(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Share leader's section score minus each brand's, in the latest period."""
    rs = done["relative_share"]
    if not is_ok(rs):
        return rs
    latest = _latest(ctx)
    leader = int(rs["share_leader"])
    brands = {}
    for b in latest.index.drop(leader):
        gaps = (latest.loc[leader, list(SECTIONS)] - latest.loc[b, list(SECTIONS)]).astype(float)
        brands[str(b)] = {
            "brand_name": ctx.name(b),
            "gaps": {s: f(gaps[s]) for s in SECTIONS},
            "largest_gap_section": gaps.idxmax() if gaps.notna().any() else None,
        }
    return ok_block(leader_brand_id=leader, leader_name=ctx.name(leader), brands=brands)


def knee_share(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Share at each brand's knee plan: latest share + knee ΔDC × the share response per DC point
    (plans.relative_share_slope)."""
    slope, knees = done["share_slope"], done["knee_plans"]
    if not is_ok(slope):
        return insufficient(f"no share slope: {slope.get('reason')}", 0, 1)
    if not is_ok(knees):
        return knees
    latest = _latest(ctx)[OUTCOME]
    p = {**slope["pp_per_point"], "slope": slope["pp_per_point"]["estimate"]}
    brands = {}
    for key, k in knees["brands"].items():
        b = int(key)
        if not is_ok(k) or b not in latest.index:
            continue
        lo, hi = sorted((k["delta_dc"] * p["ci_low"], k["delta_dc"] * p["ci_high"]))
        brands[key] = {
            "brand_name": k["brand_name"],
            "share": float(latest[b]),
            "knee_delta_dc": k["delta_dc"],
            "knee_effort": k["effort"],
            "share_at_knee": float(latest[b] + k["delta_dc"] * p["slope"]),
            "change_pp": k["delta_dc"] * p["slope"],
            "change_ci_low": lo,
            "change_ci_high": hi,
        }
    return ok_block(
        slope_pp_per_point=p["slope"], slope_used=slope["used"], slope_significant=p["significant"], brands=brands
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    rs = a["relative_share"]
    if is_ok(rs):
        B = join_pointer("analysis", "relative_share", "brands", rs["share_leader"])
        P = "/analysis/relative_share/positions"
        out.append(
            insight(
                "",
                "{brand} leads the market with {share}% share, {rs} times the next brand's; the others are "
                "{ch} challenger(s), {fo} follower(s) and {ni} niche brand(s).",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "share", B + "/share"),
                    cite(root, "rs", B + "/relative_share", 2),
                    cite(root, "ch", P + "/challenger", 0),
                    cite(root, "fo", P + "/follower", 0),
                    cite(root, "ni", P + "/niche", 0),
                ],
                0.75,
            )
        )
    slope = a["share_slope"]
    if is_ok(slope):
        P = "/analysis/share_slope/pp_per_point"
        word = "significant" if slope["pp_per_point"]["significant"] else "not significant"
        out.append(
            insight(
                "",
                f"A DC point above the cohort mean goes with {{slope}} pp of market share ({slope['used']} slope, "
                f"{{level}}% CI {{lo}} to {{hi}}; {word} at brand-clustered {{p}}).",
                [
                    cite(root, "slope", P + "/estimate", 3),
                    cite(root, "level", "/analysis/share_slope/confidence_percent", 0),
                    cite(root, "lo", P + "/ci_low", 3),
                    cite(root, "hi", P + "/ci_high", 3),
                    cite(root, "p", P + "/p_label"),
                ],
                0.8,
            )
        )
    mom = a["momentum"]
    for key, b in mom["brands"].items() if is_ok(mom) else []:
        if b.get("direction") in ("gaining", "losing"):
            B = join_pointer("analysis", "momentum", "brands", key)
            out.append(
                insight(
                    "",
                    f"{{brand}} is {b['direction']} share: {{slope}} pp per period over the last {{n}} periods "
                    "({p}).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "slope", B + "/slope_per_period", 3, True),
                        cite(root, "n", B + "/n_periods", 0),
                        cite(root, "p", B + "/slope_p_label"),
                    ],
                    min(1.0, abs(b["slope_per_period"]) * 2),
                )
            )
    gaps = a["section_gaps"]
    widest = {
        k: b["gaps"][b["largest_gap_section"]] for k, b in gaps.get("brands", {}).items() if b["largest_gap_section"]
    }
    if is_ok(gaps) and widest:
        key = max(widest, key=widest.get)
        b = gaps["brands"][key]
        B = join_pointer("analysis", "section_gaps", "brands", key)
        out.append(
            insight(
                "",
                "{brand} trails share leader {leader} most in {section}: {gap} points.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "leader", "/analysis/section_gaps/leader_name"),
                    cite(root, "section", B + "/largest_gap_section"),
                    cite(root, "gap", B + "/gaps/" + b["largest_gap_section"]),
                ],
                min(1.0, max(0.0, widest[key]) / 30),
            )
        )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    return knee_response_recommendations(root, "knee_share", OUTCOME, "move share", "share", "share_at_knee")


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    rs = a["relative_share"]
    if is_ok(rs):
        latest = _latest(ctx)
        has_revenue = latest["revenue"].notna().all()
        keys = list(rs["brands"])
        out["position_bubble"] = charts.bubble(
            f"DC against market share, {rs['period']}" + ("" if has_revenue else " (revenue absent: equal sizes)"),
            "/analysis/relative_share",
            [rs["brands"][k]["dc"] for k in keys],
            [rs["brands"][k]["share"] for k in keys],
            [float(latest.at[int(k), "revenue"]) if has_revenue else 1.0 for k in keys],
            [rs["brands"][k]["brand_name"] for k in keys],
            x_label="DC score",
            y_label="market share (%)",
            size_label="revenue" if has_revenue else "equal",
        )
    gaps = a["section_gaps"]
    if is_ok(gaps) and gaps["brands"]:
        values = [[b["gaps"][s] for s in SECTIONS] for b in gaps["brands"].values()]
        top = max(1.0, float(np.nanmax(np.abs(np.array(values, dtype=float)))))
        out["gap_heatmap"] = charts.heatmap(
            f"Section gap to share leader {gaps['leader_name']} (points)",
            "/analysis/section_gaps",
            [b["brand_name"] for b in gaps["brands"].values()],
            list(SECTIONS),
            values,
            value_label="leader minus brand",
            vmin=-top,
            vmax=top,
            diverging=True,
        )
    return out


BUILDER = ReportBuilder(
    report_id="market_position_enhancement",
    needs=REPORT_NEEDS["market_position_enhancement"],
    blocks=(
        Block("relative_share", relative_share),
        Block("momentum", momentum),
        Block("section_gaps", section_gaps),
        Block("share_slope", lambda ctx, _: relative_share_slope(ctx)),
        Block("hhi", share_hhi),
        Block("knee_plans", knee_plans, "standard"),
        Block("knee_share", knee_share, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Share pp per relative DC point", "/analysis/share_slope/pp_per_point/estimate", "coefficient"),
        Kpi("Market leaders", "/analysis/relative_share/positions/leader", "count"),
    ],
)
