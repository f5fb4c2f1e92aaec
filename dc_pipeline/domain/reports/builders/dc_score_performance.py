"""Report 1, dc_score_performance_analysis (SPEC §7 item 1): latest standing, statistics and trends over
periods, IQR outliers, top contributions and shortfalls."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dc_pipeline.domain.recommendations.effort import effort as effort_of
from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.outliers import iqr_outliers
from dc_pipeline.domain.reports.blocks.periods import series_statistics
from dc_pipeline.domain.reports.blocks.refresh_churn import refresh_churn, refresh_churn_insight
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.blocks.trend import trend_block
from dc_pipeline.domain.reports.builders.common import (
    TIER_BANDS,
    brand_pointer,
    brand_trends,
    f,
    grain_unit,
    trend_insight,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

TOP_N = 5


def latest_standing(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """DC, tier, rank and gaps of every member brand in the project's latest period."""
    rows = ctx.own_brands[ctx.own_brands["period"] == ctx.latest]
    scored = rows[rows["dc_score"].notna()].sort_values(["dc_score", "brand_id"], ascending=[False, True])
    leader, mean = scored["dc_score"].max(), scored["dc_score"].mean()
    brands = {}
    for r in pd.concat([scored, rows[rows["dc_score"].isna()].sort_values("brand_id")]).itertuples():
        dc = f(r.dc_score)
        brands[str(r.brand_id)] = {
            "brand_id": int(r.brand_id),
            "brand_name": ctx.name(r.brand_id),
            "dc_score": dc,
            "tier": r.tier,
            "rank": None if pd.isna(r.rank) else int(r.rank),
            "gap_to_leader": None if dc is None else float(leader - dc),
            "gap_to_mean": None if dc is None else float(dc - mean),
            "weight_coverage": f(r.weight_coverage),
            "null_reason": r.null_reason,
        }
    tiers = scored["tier"].value_counts()
    return ok_block(
        period=iso_date(ctx.latest),
        n_brands=int(len(scored)),
        portfolio_mean=float(mean),
        portfolio_median=float(scored["dc_score"].median()),
        leader_brand_id=int(scored["brand_id"].iloc[0]),
        laggard_brand_id=int(scored["brand_id"].iloc[-1]),
        tier_thresholds={"high": TIER_BANDS[1], "medium": TIER_BANDS[0]},
        tier_counts={t: int(tiers.get(t, 0)) for t in ("high", "medium", "low")},
        brands=brands,
    )


def period_statistics(ctx: ReportContext, _: dict) -> dict[str, Any]:
    brands = {}
    for brand_id, g in ctx.panel.groupby("brand_id", sort=True):
        brands[str(brand_id)] = {
            "brand_id": int(brand_id),
            "brand_name": ctx.name(brand_id),
            "latest_period": iso_date(g["period"].iloc[-1]),
            "previous_period": iso_date(g["period"].iloc[-2]) if len(g) >= 2 else None,
            "latest_dc": float(g["dc"].iloc[-1]),
            **series_statistics(g["dc"]),
        }
    portfolio = ctx.panel.groupby("period")["dc"].agg(["mean", "median", "count"]).sort_index()
    series = [
        {
            "period": iso_date(p),
            "mean": float(r["mean"]),
            "median": float(r["median"]),
            "n_brands": int(r["count"]),
            "change": f(c),
        }
        for (p, r), c in zip(portfolio.iterrows(), portfolio["mean"].diff())
    ]
    values = dict(n_periods=len(series), portfolio=series, sd_ddof=1, brands=brands)
    if len(series) < 2:
        return insufficient(
            f"insufficient history: {len(series)} period, 2 needed for sd, consistency and change",
            len(series),
            2,
            **values,
        )
    return ok_block(**values)


def trends(ctx: ReportContext, _: dict) -> dict[str, Any]:
    portfolio = ctx.panel.groupby("period").agg(dc=("dc", "mean"), t=("t", "first")).sort_index()
    block = trend_block(
        portfolio["t"], portfolio["dc"], ctx.confidence_level, what="the portfolio mean DC", unit=grain_unit(ctx)
    )
    per_brand = brand_trends(ctx, "dc", "DC")
    if not is_ok(block):
        return {**block, "brands": per_brand}
    rated = [(k, b) for k, b in per_brand.items() if is_ok(b) and b["consistency_detrended"] is not None]
    least = min(rated, key=lambda kb: (kb[1]["consistency_detrended"], kb[0]))[0] if len(rated) >= 2 else None
    return {**block, "multiple_testing": "holm across brands", "least_consistent_brand": least, "brands": per_brand}


def outliers(ctx: ReportContext, done: dict) -> dict[str, Any]:
    latest = done["latest_period"]["brands"]
    block = iqr_outliers({k: b["dc_score"] for k, b in latest.items()}, what="brands with a DC score")
    if is_ok(block):
        for key, o in block["outliers"].items():
            o.update(brand_id=int(key), brand_name=latest[key]["brand_name"])
    return block


def _metric_row(r, value: float) -> dict[str, Any]:
    return {
        "metric_id": int(r.metric_id),
        "metric_name": r.metric_name,
        "section": r.section_name,
        "platform": r.platform_name,
        "value": float(value),
        "directed_score": float(r.directed_score),
        "effective_weight": float(r.effective_weight),
    }


def contributions(ctx: ReportContext, _: dict) -> dict[str, Any]:
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest) & m["contribution"].notna()]
    if m.empty:
        return insufficient(f"no metric contributions for project {ctx.project_id} in {iso_date(ctx.latest)}", 0, 1)
    costs = (
        {}
        if ctx.data.metrics is None
        else dict(zip(ctx.data.metrics["metric_id"].astype(int), ctx.data.metrics["effort_cost"].astype(float)))
    )
    best = m.groupby("metric_id")["directed_score"].max()
    s = ctx.data.scores.sections
    s = s[(s["project_id"] == ctx.project_id) & (s["period"] == ctx.latest)]
    table = s.pivot_table(index="brand_id", columns="section_name", values="contribution", aggfunc="sum")
    brands = {}
    for brand_id, g in m.groupby("brand_id", sort=True):
        top = g.sort_values(["contribution", "metric_id"], ascending=[False, True]).head(TOP_N)
        gaps = g.sort_values(["shortfall", "metric_id"], ascending=[False, True]).head(TOP_N)
        shortfalls = []
        for r in gaps.itertuples():
            row = _metric_row(r, r.shortfall)
            cost = costs.get(int(r.metric_id))
            row["effort_to_close"] = (
                None
                if cost is None
                else float(effort_of(r.directed_score, 100.0 - r.directed_score, cost, best[r.metric_id]))
            )
            shortfalls.append(row)
        brands[str(brand_id)] = {
            "brand_id": int(brand_id),
            "brand_name": ctx.name(brand_id),
            "sections": {sec: f(table.loc[brand_id, sec]) if sec in table.columns else None for sec in SECTIONS},
            "top_contributions": [_metric_row(r, r.contribution) for r in top.itertuples()],
            "top_shortfalls": shortfalls,
        }
    return ok_block(
        period=iso_date(ctx.latest),
        top_n=TOP_N,
        section_order=list(SECTIONS),
        effort_basis="SPEC 6c effort function with metrics.effort_cost, raising the metric to 100" if costs else None,
        brands=brands,
    )


def rank_bands(ctx: ReportContext, _: dict) -> dict[str, Any]:
    mc = (ctx.data.robustness or {}).get("robustness_monte_carlo")
    if mc is None or mc.empty:
        return unavailable_block("missing_input", f"index_robustness not available for project {ctx.project_id}", 0, 1)
    latest = mc[mc["period"] == mc["period"].max()].sort_values("nominal_rank")
    return ok_block(
        period=iso_date(latest["period"].iloc[0]),
        brands={
            str(r.brand_id): {
                "brand_id": int(r.brand_id),
                "brand_name": ctx.name(r.brand_id),
                "nominal_rank": int(r.nominal_rank),
                "rank_lo": f(r.rank_lo),
                "rank_hi": f(r.rank_hi),
                "dc_lo": f(r.dc_lo),
                "dc_hi": f(r.dc_hi),
                "tier_uncertain": bool(r.tier_uncertain),
                "rank_uncertain": bool(r.rank_uncertain),
            }
            for r in latest.itertuples()
        },
    )


def metric_detail(ctx: ReportContext, _: dict) -> dict[str, Any]:
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest)].sort_values(["brand_id", "metric_id"])
    return ok_block(
        period=iso_date(ctx.latest),
        rows=[
            {
                "brand_name": ctx.name(r.brand_id),
                "metric_name": r.metric_name,
                "section": r.section_name,
                "platform": r.platform_name,
                "directed_score": f(r.directed_score),
                "effective_weight": f(r.effective_weight),
                "contribution": f(r.contribution),
                "shortfall": f(r.shortfall),
            }
            for r in m.itertuples()
        ],
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    L = "/analysis/latest_period"
    latest = a["latest_period"]
    lead = brand_pointer("latest_period", latest["leader_brand_id"])
    out.append(
        insight(
            "",
            "{brand} leads {period} with a DC score of {dc}, {gap} points above the portfolio mean of {mean}.",
            [
                cite(root, "brand", lead + "/brand_name"),
                cite(root, "period", L + "/period"),
                cite(root, "dc", lead + "/dc_score"),
                cite(root, "gap", lead + "/gap_to_mean"),
                cite(root, "mean", L + "/portfolio_mean"),
            ],
            latest["brands"][str(latest["leader_brand_id"])]["gap_to_mean"] / 100,
        )
    )
    if latest["n_brands"] >= 2:
        lag = brand_pointer("latest_period", latest["laggard_brand_id"])
        out.append(
            insight(
                "",
                "{brand} ranks {rank} of {n} in {period} at DC {dc}, {gap} points behind {leader}.",
                [
                    cite(root, "brand", lag + "/brand_name"),
                    cite(root, "rank", lag + "/rank", 0),
                    cite(root, "n", L + "/n_brands", 0),
                    cite(root, "period", L + "/period"),
                    cite(root, "dc", lag + "/dc_score"),
                    cite(root, "gap", lag + "/gap_to_leader"),
                    cite(root, "leader", lead + "/brand_name"),
                ],
                latest["brands"][str(latest["laggard_brand_id"])]["gap_to_leader"] / 100,
            )
        )
    unit = grain_unit(ctx)
    t = a["trend"]
    if is_ok(t):
        found = trend_insight(root, "/analysis/trend", "The portfolio mean", unit)
        if found:
            out.append({**found, "priority": min(1.0, found["priority"] + 0.2)})
        for key in t["brands"]:
            found = trend_insight(
                root, f"/analysis/trend/brands/{key}", f"/analysis/trend/brands/{key}/brand_name", unit
            )
            if found:
                out.append(found)
        least = t.get("least_consistent_brand")
        if least is not None:
            B = f"/analysis/trend/brands/{least}"
            out.append(
                insight(
                    "",
                    "{brand} is the least consistent brand around its trend: detrended consistency "
                    "{c} (residual sd {sd} around its Sen line, mean DC {mean}).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "c", B + "/consistency_detrended", 3),
                        cite(root, "sd", B + "/residual_sd", 2),
                        cite(root, "mean", B + "/mean"),
                    ],
                    1.0 - t["brands"][least]["consistency_detrended"],
                )
            )
    stats = a["period_statistics"]
    if is_ok(stats):
        for key, b in stats["brands"].items():
            if b["latest_change"]["notable"]:
                B = brand_pointer("period_statistics", key)
                out.append(
                    insight(
                        "",
                        "{brand} moved {delta} DC points from {p0} to {p1}, beyond twice its usual "
                        "period-to-period variation (sd {sd}).",
                        [
                            cite(root, "brand", B + "/brand_name"),
                            cite(root, "delta", B + "/change_vs_previous", signed=True),
                            cite(root, "p0", B + "/previous_period"),
                            cite(root, "p1", B + "/latest_period"),
                            cite(root, "sd", B + "/latest_change/earlier_sd", 2),
                        ],
                        abs(b["change_vs_previous"]) / 20,
                    )
                )
    if is_ok(a["outliers"]):
        for key, o in a["outliers"]["outliers"].items():
            op = join_pointer("analysis", "outliers", "outliers", key)
            out.append(
                insight(
                    "",
                    "{brand} is a {direction} outlier at DC {dc}, {distance} points beyond the IQR fence of {fence}.",
                    [
                        cite(root, "brand", op + "/brand_name"),
                        cite(root, "direction", op + "/direction"),
                        cite(root, "dc", op + "/value"),
                        cite(root, "distance", op + "/distance"),
                        cite(root, "fence", op + "/fence"),
                    ],
                    o["distance"] / 100,
                )
            )
    churn = refresh_churn_insight(root)
    return out + ([churn] if churn else [])


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    c = root["analysis"]["contributions"]
    if not is_ok(c):
        return []
    out = []
    ranked = sorted(
        c["brands"].items(), key=lambda kb: -(kb[1]["top_shortfalls"][0]["value"] if kb[1]["top_shortfalls"] else 0)
    )
    for key, b in ranked:
        if not b["top_shortfalls"]:
            continue
        S = brand_pointer("contributions", key, "top_shortfalls", 0)
        top = b["top_shortfalls"][0]
        figures = [
            cite(root, "brand", brand_pointer("contributions", key, "brand_name")),
            cite(root, "metric", S + "/metric_name"),
            cite(root, "platform", S + "/platform"),
            cite(root, "gain", S + "/value", 2),
        ]
        text = "{brand}: improve {metric} on {platform}; closing its whole shortfall adds up to {gain} DC points"
        if top.get("effort_to_close") is not None:
            figures.append(cite(root, "effort", S + "/effort_to_close", 1))
            text += " for {effort} effort units"
        out.append(
            recommendation(
                "",
                text + ".",
                figures,
                brand_id=b["brand_id"],
                section=top["section"],
                expected_delta_dc=top["value"],
                effort=top.get("effort_to_close"),
                source=S,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a = root["analysis"]
    latest = a["latest_period"]
    scored = [b for b in latest["brands"].values() if b["dc_score"] is not None]
    out = {
        "dc_by_brand": charts.bar(
            f"DC score by brand, {latest['period']}",
            "/analysis/latest_period",
            [b["brand_name"] for b in scored],
            [b["dc_score"] for b in scored],
            y_label="DC score",
            bands=TIER_BANDS,
            supports=["/analysis/latest_period", "/analysis/outliers"],
        )
    }
    if is_ok(a["contributions"]):
        c = a["contributions"]["brands"]
        order = [str(b["brand_id"]) for b in scored if str(b["brand_id"]) in c]
        out["section_contributions"] = charts.stacked_bar(
            "Section contributions to DC",
            "/analysis/contributions",
            [c[k]["brand_name"] for k in order],
            {s: [c[k]["sections"][s] for k in order] for s in SECTIONS},
            y_label="DC points",
        )
    stats = a["period_statistics"]
    if stats.get("portfolio") and len(stats["portfolio"]) >= 2:
        periods = [p["period"] for p in stats["portfolio"]]
        series = {"portfolio mean": [p["mean"] for p in stats["portfolio"]]}
        for b in stats["brands"].values():
            own = dict(
                zip(
                    ctx.panel.loc[ctx.panel["brand_id"] == b["brand_id"], "period"].map(iso_date),
                    ctx.panel.loc[ctx.panel["brand_id"] == b["brand_id"], "dc"],
                )
            )
            series[b["brand_name"]] = [own.get(p) for p in periods]
        out["dc_over_periods"] = charts.line(
            "DC over periods",
            "/analysis/period_statistics",
            periods,
            series,
            y_label="DC score",
            bands=TIER_BANDS,
            emphasis="portfolio mean",
            supports=["/analysis/period_statistics", "/analysis/trend"],
        )
    return out


def _kpis(root: dict, ctx: ReportContext) -> list[Kpi]:
    lead = brand_pointer("latest_period", root["analysis"]["latest_period"]["leader_brand_id"])
    return [
        Kpi("Portfolio mean DC", "/analysis/latest_period/portfolio_mean"),
        Kpi("Leader", lead + "/brand_name", "text"),
        Kpi("Leader DC", lead + "/dc_score"),
        Kpi("Brands in high tier", "/analysis/latest_period/tier_counts/high", "count"),
        Kpi("Portfolio trend per period", "/analysis/trend/sen/slope", "coefficient"),
    ]


BUILDER = ReportBuilder(
    report_id="dc_score_performance_analysis",
    needs=REPORT_NEEDS["dc_score_performance_analysis"],
    blocks=(
        Block("latest_period", latest_standing),
        Block("period_statistics", period_statistics),
        Block("trend", trends),
        Block("outliers", outliers),
        Block("contributions", contributions),
        Block("refresh_churn", refresh_churn),
        Block("rank_bands", rank_bands, "detailed"),
        Block("metric_detail", metric_detail, "detailed"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=_kpis,
)
