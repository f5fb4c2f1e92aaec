"""Report 7, bestseller_rank_optimization (SPEC §7 item 7): rank correlations with DC and Marketplace,
log(rank) on Marketplace with the expected rank at Marketplace +5, rank sd per brand, and the cheapest
plan for +5 Marketplace points (the exact water-filling front of SPEC 6c on Marketplace metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.recommendations.oracle import water_filling_front
from dc_pipeline.domain.recommendations.problem import build_problem
from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import rank_corr_block
from dc_pipeline.domain.reports.blocks.slope import slope_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import latest_series_labels, scatter_by_brand
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.settings import OptimizerConfig

RANK, MARKET = "bestseller_rank", "Marketplace"
UPLIFT = 5.0


def rank_correlations(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(RANK)
    m = obs.dropna(subset=[MARKET])
    return ok_block(
        dc=rank_corr_block(obs["dc"], obs[RANK], ctx.confidence_level, what="brand-periods with DC and rank"),
        marketplace=rank_corr_block(
            m[MARKET], m[RANK], ctx.confidence_level, what="brand-periods with Marketplace and rank"
        ),
    )


def log_rank_model(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(RANK, MARKET)
    obs = obs[obs[RANK] >= 1].assign(log_rank=lambda d: np.log(d[RANK]))
    block = slope_block(obs, MARKET, "log_rank", ctx.confidence_level, what="brand-periods with Marketplace and rank")
    if not is_ok(block):
        return block
    b = block["pooled"]
    latest = obs[obs["period"] == obs["period"].max()]
    brands = {
        str(r.brand_id): {
            "brand_name": ctx.name(r.brand_id),
            "marketplace": float(r.Marketplace),
            "rank": float(r.bestseller_rank),
            "expected_rank": float(np.exp(b["intercept"] + b["slope"] * r.Marketplace)),
            "expected_rank_plus_5": float(np.exp(b["intercept"] + b["slope"] * (r.Marketplace + UPLIFT))),
        }
        for r in latest.itertuples()
    }
    return {
        **block,
        "uplift": UPLIFT,
        "rank_factor_per_5_points": float(np.exp(UPLIFT * b["slope"])),
        "period": iso_date(latest["period"].max()),
        "brands": brands,
    }


def rank_stability(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(RANK)
    g = obs.groupby("brand_id")[RANK]
    return ok_block(
        brands={
            str(b): {
                "brand_name": ctx.name(b),
                "n_periods": int(s.size),
                "mean_rank": float(s.mean()),
                "rank_sd": float(s.std(ddof=1)) if s.size >= 2 else None,
            }
            for b, s in g
        }
    )


def marketplace_plans(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Cheapest metric targets raising each brand's Marketplace score by 5 (ΔDC = 5 x its Marketplace weight)."""
    if ctx.data.metrics is None:
        return unavailable_block("missing_input", "metric definitions (effort_cost) not loaded", 0, 1)
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest) & m["effective_weight"].notna()]
    best = m.groupby("metric_id")["directed_score"].max().rename("best_score")
    costs = ctx.data.metrics.drop_duplicates("metric_id").set_index("metric_id")["effort_cost"]
    config = OptimizerConfig()
    brands = {}
    for brand_id, g in m[m["section_name"] == MARKET].groupby("brand_id", sort=True):
        rows = g.join(best, on="metric_id").assign(effort_cost=lambda d: d["metric_id"].map(costs))
        problem = build_problem(rows, config.model_copy(update={"max_metrics_changed": len(rows)})).problem
        if problem is None:
            brands[str(brand_id)] = insufficient(f"no improvable Marketplace metrics for {ctx.name(brand_id)}", 0, 1)
            continue
        share = float(problem.weight.sum())  # e_Marketplace: ΔDC of a uniform +1 on every Marketplace metric
        target = UPLIFT * share
        front = water_filling_front(problem)
        reach = np.flatnonzero(front.gain >= target - 1e-9)
        entry = {"brand_name": ctx.name(brand_id), "marketplace_weight": share, "target_delta_dc": target}
        if reach.size == 0:
            brands[str(brand_id)] = {
                **entry,
                **insufficient(
                    f"+{UPLIFT:g} Marketplace points not reachable within bounds for {ctx.name(brand_id)}: max "
                    f"+{front.gain[-1] / share:.1f}",
                    round(front.gain[-1] / share, 1),
                    UPLIFT,
                ),
            }
            continue
        k = int(reach[0])
        delta = front.allocation(k, problem.n_metrics)
        changed = np.flatnonzero(delta > 0)
        brands[str(brand_id)] = ok_block(
            **entry,
            delta_dc=float(front.gain[k]),
            effort=float(front.effort[k]),
            n_metrics=int(changed.size),
            metrics=[
                {
                    "metric_name": problem.metrics.at[i, "metric_name"],
                    "platform": problem.metrics.at[i, "platform_name"],
                    "current": float(problem.score[i]),
                    "target": float(problem.score[i] + delta[i]),
                    "delta": float(delta[i]),
                }
                for i in changed
            ],
        )
    return ok_block(
        period=iso_date(ctx.latest),
        uplift=UPLIFT,
        method="exact water-filling front (SPEC 6c oracle) on a 0.1-point grid, Marketplace metrics only",
        brands=brands,
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    rc = a["rank_correlations"]
    if is_ok(rc) and is_ok(rc["dc"]):
        P = "/analysis/rank_correlations"
        out.append(
            insight(
                "",
                "Higher DC goes with a better bestseller rank: Spearman {rho}, Kendall tau {tau} over "
                "{n} brand-periods.",
                [
                    cite(root, "rho", P + "/dc/spearman/rho", 3),
                    cite(root, "tau", P + "/dc/kendall/tau", 3),
                    cite(root, "n", P + "/dc/n", 0),
                ],
                abs(rc["dc"]["spearman"]["rho"]),
            )
        )
    lm = a["log_rank_model"]
    if is_ok(lm):
        P = "/analysis/log_rank_model"
        out.append(
            insight(
                "",
                "Five more Marketplace points multiply the expected rank by {factor} (log-rank slope "
                "{slope} per point, brand-clustered {p}).",
                [
                    cite(root, "factor", P + "/rank_factor_per_5_points", 3),
                    cite(root, "slope", P + "/pooled/slope", 4),
                    cite(root, "p", P + "/pooled/p_label"),
                ],
                min(1.0, abs(1 - lm["rank_factor_per_5_points"])),
            )
        )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    plans = root["analysis"]["marketplace_plans"]
    if not is_ok(plans):
        return []
    out = []
    for key, b in sorted(plans["brands"].items(), key=lambda kb: kb[1].get("effort") or 1e18):
        if not is_ok(b):
            continue
        P = join_pointer("analysis", "marketplace_plans", "brands", key)
        out.append(
            recommendation(
                "",
                "{brand}: the cheapest {up} Marketplace points cost {effort} effort units across "
                "{n} metric(s) and add {gain} DC points.",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "effort", P + "/effort"),
                    cite(root, "n", P + "/n_metrics", 0),
                    cite(root, "gain", P + "/delta_dc", 2),
                    cite(root, "up", "/analysis/marketplace_plans/uplift", 0, signed=True),
                ],
                brand_id=int(key),
                section=MARKET,
                expected_delta_dc=b["delta_dc"],
                effort=b["effort"],
                source=P,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "marketplace_vs_rank": scatter_by_brand(
            ctx,
            root,
            "/analysis/log_rank_model",
            RANK,
            MARKET,
            title="Marketplace score vs bestseller rank (1 = best, on top)",
            x_label="Marketplace score",
            y_label="bestseller rank",
            invert_y=True,
        )
    }
    periods = latest_series_labels(ctx)
    out["rank_over_time"] = charts.line(
        "Bestseller rank over time (1 = best, on top)",
        "/analysis/rank_stability",
        periods,
        {
            ctx.name(b): [dict(zip(g["period"].map(iso_date), g[RANK])).get(p) for p in periods]
            for b, g in ctx.observations(RANK).groupby("brand_id")
        },
        y_label="bestseller rank",
        invert_y=True,
    )
    return out


BUILDER = ReportBuilder(
    report_id="bestseller_rank_optimization",
    needs=REPORT_NEEDS["bestseller_rank_optimization"],
    blocks=(
        Block("rank_correlations", rank_correlations),
        Block("log_rank_model", log_rank_model),
        Block("rank_stability", rank_stability),
        Block("marketplace_plans", marketplace_plans, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Spearman (DC, rank)", "/analysis/rank_correlations/dc/spearman/rho", "coefficient"),
        Kpi("Rank factor per +5 Marketplace", "/analysis/log_rank_model/rank_factor_per_5_points", "coefficient"),
    ],
)
