"""Report 20, opportunity_identification_analysis (SPEC §7 item 20): per (brand, metric) in the latest period
the gain of reaching the cohort best e_m (best_m - s_m), its effort (SPEC §6c function) and gain/effort;
quick wins (top-decile ratio with Δ <= 10), strategic (largest gains), transfers (another brand >= 15 points
better) and the outcome value of each gain where the outcome model is validated. Charts: gain vs effort
scatter; top-10 bars."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.model_inputs import gain_to_best, metric_rows, validated_effect
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS

QUICK_WIN_MAX_DELTA = 10.0
QUICK_WIN_QUANTILE = 0.9
TRANSFER_GAP = 15.0
TOP_N = 10


def _row(r, names) -> dict[str, Any]:
    return {
        "brand_id": int(r.brand_id),
        "brand_name": names(r.brand_id),
        "metric_id": int(r.metric_id),
        "metric_name": r.metric_name,
        "section": r.section_name,
        "platform": r.platform_name,
        "current": float(r.directed_score),
        "best": float(r.best_score),
        "delta": float(r.delta),
        "gain": float(r.gain),
        "effort": float(r.effort),
        "ratio": float(r.ratio),
    }


def opportunity_table(ctx: ReportContext) -> tuple[pd.DataFrame, str | None]:
    """(rows with gain/effort to the cohort best, reason when there are none)."""
    return ctx.memo("opportunity_table", lambda: _opportunity_table(ctx))


def _opportunity_table(ctx: ReportContext) -> tuple[pd.DataFrame, str | None]:
    if ctx.data.metrics is None:
        return pd.DataFrame(), f"metric definitions (effort_cost) not loaded for project {ctx.project_id}"
    rows = metric_rows(ctx)
    if rows.empty:
        return rows, f"no scored metrics in the latest period of project {ctx.project_id}"
    table = gain_to_best(rows)
    if table.empty:
        n = int(rows["brand_id"].nunique())
        return table, f"no metric below the cohort best among {n} brand(s): nothing to close"
    return table.sort_values(["ratio", "brand_id", "metric_id"], ascending=[False, True, True]), None


def opportunities(ctx: ReportContext, _: dict) -> dict[str, Any]:
    table, why = opportunity_table(ctx)
    if why:
        status = "missing_input" if ctx.data.metrics is None else "insufficient_data"
        return unavailable_block(status, why, 0, 1)
    cut = float(np.quantile(table["ratio"], QUICK_WIN_QUANTILE))
    quick = table[(table["ratio"] >= cut) & (table["delta"] <= QUICK_WIN_MAX_DELTA)]
    strategic = table.sort_values(["gain", "brand_id", "metric_id"], ascending=[False, True, True]).head(TOP_N)
    return ok_block(
        period=iso_date(ctx.latest),
        n_opportunities=len(table),
        total_gain=float(table["gain"].sum()),
        quick_win_ratio_cut=cut,
        quick_win_rule=f"gain/effort >= its {QUICK_WIN_QUANTILE:.0%} quantile and Δ <= {QUICK_WIN_MAX_DELTA:g}",
        top_by_ratio=[_row(r, ctx.name) for r in table.head(TOP_N).itertuples()],
        quick_wins=[_row(r, ctx.name) for r in quick.itertuples()],
        strategic=[_row(r, ctx.name) for r in strategic.itertuples()],
        points=[[float(r.effort), float(r.gain), ctx.name(r.brand_id)] for r in table.itertuples()],
    )


def transfers(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """(laggard, metric, leader) where the leader's directed score is >= 15 points higher."""
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest) & m["directed_score"].notna()]
    if m["brand_id"].nunique() < 2:
        return insufficient(f"{m['brand_id'].nunique()} brand in the latest period, 2 needed for transfers", 1, 2)
    best = m.loc[m.groupby("metric_id")["directed_score"].idxmax(), ["metric_id", "brand_id", "directed_score"]]
    best = best.rename(columns={"brand_id": "leader_id", "directed_score": "leader_score"})
    gaps = m.merge(best, on="metric_id")
    gaps = gaps[
        (gaps["leader_score"] - gaps["directed_score"] >= TRANSFER_GAP) & (gaps["leader_id"] != gaps["brand_id"])
    ]
    gaps = gaps.assign(gap=gaps["leader_score"] - gaps["directed_score"]).sort_values(
        ["gap", "brand_id", "metric_id"], ascending=[False, True, True]
    )
    return ok_block(
        min_gap=TRANSFER_GAP,
        n_transfers=len(gaps),
        transfers=[
            {
                "brand_name": ctx.name(r.brand_id),
                "leader_name": ctx.name(r.leader_id),
                "metric_name": r.metric_name,
                "section": r.section_name,
                "platform": r.platform_name,
                "gap": float(r.gap),
                "current": float(r.directed_score),
                "leader_score": float(r.leader_score),
            }
            for r in gaps.head(3 * TOP_N).itertuples()
        ],
    )


def outcome_value(ctx: ReportContext, done: dict) -> dict[str, Any]:
    opp = done["opportunities"]
    if not is_ok(opp):
        return unavailable_block("insufficient_data", "no opportunities to value", 0, 1)
    if ctx.data.outcome_models is None:
        return unavailable_block("missing_input", f"outcome models not loaded for project {ctx.project_id}", 0, 1)
    effects = {o: e for o in OUTCOME_COLUMNS if (e := validated_effect(ctx, o)) is not None}
    if not effects:
        return unavailable_block("insufficient_data", "no validated score-to-outcome model (SPEC §6a)", 0, 1)
    target = "revenue" if "revenue" in effects else next(iter(effects))
    e = effects[target]
    rows = [
        {
            **{k: r[k] for k in ("brand_name", "metric_name", "gain")},
            "estimate": r["gain"] * e["estimate"],
            "ci_low": min(r["gain"] * e["ci_low"], r["gain"] * e["ci_high"]),
            "ci_high": max(r["gain"] * e["ci_low"], r["gain"] * e["ci_high"]),
        }
        for r in opp["strategic"]
    ]
    return ok_block(
        outcome=target,
        per_dc_point=e,
        validated_outcomes=sorted(effects),
        strategic_value=rows,
        total_gain_value=opp["total_gain"] * e["estimate"],
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    o = a["opportunities"]
    if is_ok(o):
        for i, r in enumerate(o["quick_wins"][:3]):
            P = f"/analysis/opportunities/quick_wins/{i}"
            out.append(
                insight(
                    "",
                    "Quick win: {brand} can lift {metric} ({platform}) by {delta} points to the cohort best for "
                    "+{gain} DC at {effort} effort units ({ratio} DC per unit).",
                    [
                        cite(root, "brand", P + "/brand_name"),
                        cite(root, "metric", P + "/metric_name"),
                        cite(root, "platform", P + "/platform"),
                        cite(root, "delta", P + "/delta"),
                        cite(root, "gain", P + "/gain", 2),
                        cite(root, "effort", P + "/effort"),
                        cite(root, "ratio", P + "/ratio", 3),
                    ],
                    min(1.0, 0.4 + r["gain"] / 5),
                )
            )
        if o["strategic"]:
            P = "/analysis/opportunities/strategic/0"
            out.append(
                insight(
                    "",
                    "The largest single gain: {brand} reaching the cohort best on {metric} adds {gain} DC points "
                    "({effort} effort units).",
                    [
                        cite(root, "brand", P + "/brand_name"),
                        cite(root, "metric", P + "/metric_name"),
                        cite(root, "gain", P + "/gain", 2),
                        cite(root, "effort", P + "/effort"),
                    ],
                    min(1.0, o["strategic"][0]["gain"] / 5),
                )
            )
    t = a["transfers"]
    if is_ok(t) and t["transfers"]:
        P = "/analysis/transfers/transfers/0"
        out.append(
            insight(
                "",
                "{leader} leads {brand} by {gap} points on {metric} ({platform}): the widest transfer opportunity of "
                "{n}.",
                [
                    cite(root, "leader", P + "/leader_name"),
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "gap", P + "/gap"),
                    cite(root, "metric", P + "/metric_name"),
                    cite(root, "platform", P + "/platform"),
                    cite(root, "n", "/analysis/transfers/n_transfers", 0),
                ],
                min(1.0, t["transfers"][0]["gap"] / 50),
            )
        )
    v = a["outcome_value"]
    if is_ok(v):
        out.append(
            insight(
                "",
                "Closing every gap to the cohort best is worth about {value} in {outcome} (validated model, {per} "
                "per DC point).",
                [
                    cite(root, "value", "/analysis/outcome_value/total_gain_value", 0),
                    cite(root, "outcome", "/analysis/outcome_value/outcome"),
                    cite(root, "per", "/analysis/outcome_value/per_dc_point/estimate", 0),
                ],
                0.5,
            )
        )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    o = root["analysis"]["opportunities"]
    if not is_ok(o):
        return []
    out = []
    for i, r in enumerate(o["quick_wins"] or o["top_by_ratio"]):
        P = f"/analysis/opportunities/{'quick_wins' if o['quick_wins'] else 'top_by_ratio'}/{i}"
        out.append(
            recommendation(
                "",
                "{brand}: raise {metric} on {platform} from {cur} to {best} (+{gain} DC for {effort} effort units).",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "metric", P + "/metric_name"),
                    cite(root, "platform", P + "/platform"),
                    cite(root, "cur", P + "/current"),
                    cite(root, "best", P + "/best"),
                    cite(root, "gain", P + "/gain", 2),
                    cite(root, "effort", P + "/effort"),
                ],
                brand_id=r["brand_id"],
                section=r["section"],
                expected_delta_dc=r["gain"],
                effort=r["effort"],
                source=P,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    o = root["analysis"]["opportunities"]
    if not is_ok(o):
        return {}
    pts = o["points"]
    return {
        "gain_vs_effort": charts.scatter(
            "Gain to the cohort best vs effort, per brand and metric",
            "/analysis/opportunities",
            [p[0] for p in pts],
            [p[1] for p in pts],
            [p[2] for p in pts],
            x_label="effort units",
            y_label="ΔDC",
        ),
        "top_ratio": charts.bar(
            "Top 10 opportunities by DC gain per effort unit",
            "/analysis/opportunities/top_by_ratio",
            [f"{r['brand_name']}: {r['metric_name']} ({r['platform']})" for r in o["top_by_ratio"]],
            [r["ratio"] for r in o["top_by_ratio"]],
            y_label="ΔDC per effort unit",
            value_format="coefficient",
        ),
    }


BUILDER = ReportBuilder(
    report_id="opportunity_identification_analysis",
    needs=REPORT_NEEDS["opportunity_identification_analysis"],
    blocks=(
        Block("opportunities", opportunities),
        Block("transfers", transfers),
        Block("outcome_value", outcome_value, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Opportunities", "/analysis/opportunities/n_opportunities", "count"),
        Kpi("DC to gain by closing every gap", "/analysis/opportunities/total_gain"),
        Kpi("Transfer opportunities", "/analysis/transfers/n_transfers", "count"),
        Kpi("Value of closing every gap", "/analysis/outcome_value/total_gain_value", "money"),
    ],
)
