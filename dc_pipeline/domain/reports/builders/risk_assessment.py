"""Report 19, risk_assessment_analysis (SPEC §7 item 19): sd of period changes, historical 5 % VaR and
expected shortfall of ΔDC, maximum drawdown, P(DC below the current tier floor at the horizon) from the stored
forecast quantiles, concentration (share of DC in the top-3 contributions; largest brand's revenue share),
rank-band width (§9) and the DQ band. Charts: probability vs impact matrix; drawdown line."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.risk import VAR_LEVEL, max_drawdown, var_es
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import f
from dc_pipeline.domain.reports.builders.model_inputs import forecast_table, missing_forecasts, p_below_floor
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.health import dq_band
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

MIN_CHANGES = 5
TOP_CONTRIBUTIONS = 3
TIER_DROP_ALERT = 0.3


def volatility(ctx: ReportContext, _: dict) -> dict[str, Any]:
    brands = {}
    for brand_id, g in ctx.panel.groupby("brand_id", sort=True):
        g = g.sort_values("t")
        changes = np.diff(g["dc"].to_numpy(float))
        dd = max_drawdown(g["dc"].to_numpy(float))
        periods = [iso_date(p) for p in g["period"]]
        entry = {
            "brand_id": int(brand_id),
            "brand_name": ctx.name(brand_id),
            "n_periods": len(g),
            "change_sd": float(np.std(changes, ddof=1)) if changes.size >= 2 else None,
            **var_es(changes, VAR_LEVEL),
            "max_drawdown": dd["max_drawdown"],
            "drawdown_peak_period": periods[dd["peak_index"]],
            "drawdown_trough_period": periods[dd["trough_index"]],
            "drawdown": dd["drawdown"],
            "periods": periods,
        }
        if changes.size < MIN_CHANGES:
            entry["status"] = "insufficient_data"
            entry["reason"] = f"insufficient history: {changes.size} changes, {MIN_CHANGES} needed for VaR"
        brands[str(brand_id)] = entry
    rated = [k for k, b in brands.items() if b["var"] is not None and b.get("status") != "insufficient_data"]
    if not rated:
        n = int(ctx.panel["period"].nunique())
        return insufficient(f"insufficient history: {n} periods, {MIN_CHANGES + 1} needed", n, MIN_CHANGES + 1)
    riskiest = max(rated, key=lambda k: (brands[k]["expected_shortfall"], k))
    return ok_block(
        level=VAR_LEVEL,
        level_percent=round(100 * VAR_LEVEL),
        method="historical: k = ceil(level x n) worst period changes; VaR = -k-th worst, ES = -mean of the k",
        riskiest_brand=riskiest,
        brands=brands,
    )


def tier_risk(ctx: ReportContext, _: dict) -> dict[str, Any]:
    if forecast_table(ctx, "brand_forecasts") is None:
        return unavailable_block("missing_input", missing_forecasts(ctx), 0, 1)
    brands = {}
    for r in ctx.latest_panel.sort_values("brand_id").itertuples():
        brands[str(r.brand_id)] = {
            "brand_name": ctx.name(r.brand_id),
            "dc": float(r.dc),
            **p_below_floor(ctx, int(r.brand_id), float(r.dc)),
        }
    rated = {k: b for k, b in brands.items() if b["status"] == "ok"}
    if not rated:
        return unavailable_block(
            "insufficient_data",
            "no brand has both a tier floor (DC >= 60) and a stored DC forecast",
            0,
            1,
            brands=brands,
        )
    top = max(rated, key=lambda k: (rated[k]["p"], k))
    return ok_block(
        horizon_periods=ctx.params.forecast_periods(ctx.data.months_per_period),
        method="CDF of the piecewise-linear quantile function through the stored forecast quantiles",
        alert_threshold=TIER_DROP_ALERT,
        n_alerts=sum(1 for b in rated.values() if b["p"] > TIER_DROP_ALERT),
        highest_brand=top,
        brands=brands,
    )


def concentration(ctx: ReportContext, _: dict) -> dict[str, Any]:
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest) & m["contribution"].notna()]
    brands = {}
    for brand_id, g in m.groupby("brand_id", sort=True):
        top = g.sort_values(["contribution", "metric_id"], ascending=[False, True]).head(TOP_CONTRIBUTIONS)
        total = float(g["contribution"].sum())
        brands[str(brand_id)] = {
            "brand_name": ctx.name(brand_id),
            "top3_share": float(top["contribution"].sum() / total) if total > 0 else None,
            "n_metrics": len(g),
            "top_metrics": list(top["metric_name"]),
        }
    revenue = ctx.latest_panel.dropna(subset=["revenue"]) if "revenue" in ctx.latest_panel else None
    largest = None
    if revenue is not None and len(revenue) and revenue["revenue"].sum() > 0:
        row = revenue.loc[revenue["revenue"].idxmax()]
        largest = {
            "brand_name": ctx.name(row["brand_id"]),
            "revenue_share": float(row["revenue"] / revenue["revenue"].sum()),
            "n_brands_with_revenue": len(revenue),
        }
    if not brands:
        return insufficient(f"no metric contributions for project {ctx.project_id}", 0, 1)
    return ok_block(
        period=iso_date(ctx.latest),
        top_n=TOP_CONTRIBUTIONS,
        brands=brands,
        largest_revenue_brand=largest,
        revenue_status=None if largest else "revenue absent in the latest period",
    )


def rank_bands(ctx: ReportContext, _: dict) -> dict[str, Any]:
    mc = (ctx.data.robustness or {}).get("robustness_monte_carlo")
    if mc is None or mc.empty:
        return unavailable_block("missing_input", f"index_robustness not available for project {ctx.project_id}", 0, 1)
    latest = mc[mc["period"] == mc["period"].max()].sort_values("brand_id")
    return ok_block(
        period=iso_date(latest["period"].iloc[0]),
        n_draws=int(latest["n_draws"].iloc[0]) if "n_draws" in latest else None,
        brands={
            str(r.brand_id): {
                "brand_name": ctx.name(r.brand_id),
                "rank_band_width": f(r.rank_band_width),
                "rank_lo": f(r.rank_lo),
                "rank_hi": f(r.rank_hi),
                "p_tier_change": f(r.p_tier_change),
                "rank_uncertain": bool(r.rank_uncertain),
            }
            for r in latest.itertuples()
        },
        n_rank_uncertain=int(latest["rank_uncertain"].astype(bool).sum()),
    )


def data_quality(ctx: ReportContext, _: dict) -> dict[str, Any]:
    dq = ctx.data.dq
    if dq is None:
        return unavailable_block("missing_input", f"no data-quality score for project {ctx.project_id}", 0, 1)
    per_brand = dq.get("per_brand") or {}
    return ok_block(
        score=f(dq.get("score")),
        band=dq.get("band") or dq_band(dq.get("score")),
        brands={
            str(b): {"brand_name": ctx.name(b), **per_brand[f"b{b}"]}
            for b in sorted(ctx.latest_panel["brand_id"])
            if f"b{b}" in per_brand
        },
        quarantined_rows=dict(dq.get("quarantined_rows") or {}),
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    v = a["volatility"]
    if is_ok(v):
        B = join_pointer("analysis", "volatility", "brands", v["riskiest_brand"])
        out.append(
            insight(
                "",
                "{brand} carries the largest downside: in its worst {level}% of periods DC fell by {es} points on "
                "average (historical VaR {var}, {n} period changes); its largest drawdown was {dd} points "
                "({peak} to {trough}).",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "level", "/analysis/volatility/level_percent", 0),
                    cite(root, "es", B + "/expected_shortfall", 2),
                    cite(root, "var", B + "/var", 2),
                    cite(root, "n", B + "/n_changes", 0),
                    cite(root, "dd", B + "/max_drawdown", 2),
                    cite(root, "peak", B + "/drawdown_peak_period"),
                    cite(root, "trough", B + "/drawdown_trough_period"),
                ],
                min(1.0, v["brands"][v["riskiest_brand"]]["expected_shortfall"] / 10),
            )
        )
    t = a["tier_risk"]
    if is_ok(t):
        for key, b in t["brands"].items():
            if b["status"] != "ok" or b["p"] < 0.05:
                continue
            B = join_pointer("analysis", "tier_risk", "brands", key)
            out.append(
                insight(
                    "",
                    "{brand} has a {p} probability of falling below its tier floor of {floor} by {period} "
                    "(forecast median {median}).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "p", B + "/p", 2),
                        cite(root, "floor", B + "/floor", 0),
                        cite(root, "period", B + "/period"),
                        cite(root, "median", B + "/median"),
                    ],
                    b["p"],
                )
            )
    c = a["concentration"]
    if is_ok(c):
        key = max(c["brands"], key=lambda k: c["brands"][k]["top3_share"] or 0)
        B = join_pointer("analysis", "concentration", "brands", key)
        out.append(
            insight(
                "",
                "{brand} is the most concentrated: its top {k} metrics make {share} of its DC.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "k", "/analysis/concentration/top_n", 0),
                    cite(root, "share", B + "/top3_share", 2),
                ],
                0.4 * (c["brands"][key]["top3_share"] or 0),
            )
        )
        if c["largest_revenue_brand"]:
            L = "/analysis/concentration/largest_revenue_brand"
            out.append(
                insight(
                    "",
                    "{brand} holds {share} of the portfolio's revenue across {n} brands.",
                    [
                        cite(root, "brand", L + "/brand_name"),
                        cite(root, "share", L + "/revenue_share", 2),
                        cite(root, "n", L + "/n_brands_with_revenue", 0),
                    ],
                    0.5 * c["largest_revenue_brand"]["revenue_share"],
                )
            )
    r = a["rank_bands"]
    if is_ok(r) and r["n_rank_uncertain"]:
        out.append(
            insight(
                "",
                "{k} brands have a rank band of 2 or more places under weight noise ({n} draws).",
                [
                    cite(root, "k", "/analysis/rank_bands/n_rank_uncertain", 0),
                    cite(root, "n", "/analysis/rank_bands/n_draws", 0),
                ],
                0.3,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    t, v = a["tier_risk"], a["volatility"]
    if is_ok(t) and is_ok(v):
        keys = [k for k, b in t["brands"].items() if b["status"] == "ok" and k in v["brands"]]
        out["probability_impact"] = charts.scatter(
            "Probability of a tier drop vs downside impact (expected shortfall of ΔDC)",
            "/analysis/tier_risk",
            [t["brands"][k]["p"] for k in keys],
            [v["brands"][k]["expected_shortfall"] for k in keys],
            [t["brands"][k]["brand_name"] for k in keys],
            x_label="P(below tier floor at horizon)",
            y_label="expected shortfall (DC points)",
            supports=["/analysis/tier_risk", "/analysis/volatility"],
        )
    if is_ok(v):
        longest = max(v["brands"].values(), key=lambda b: len(b["periods"]))
        periods = longest["periods"]
        series = {}
        for b in v["brands"].values():
            own = dict(zip(b["periods"], b["drawdown"]))
            series[b["brand_name"]] = [-own[p] if p in own else None for p in periods]
        out["drawdown"] = charts.line(
            "Drawdown from the running peak (DC points)",
            "/analysis/volatility",
            periods,
            series,
            y_label="drawdown",
        )
    return out


BUILDER = ReportBuilder(
    report_id="risk_assessment_analysis",
    needs=REPORT_NEEDS["risk_assessment_analysis"],
    blocks=(
        Block("volatility", volatility),
        Block("concentration", concentration),
        Block("data_quality", data_quality),
        Block("tier_risk", tier_risk, "standard"),
        Block("rank_bands", rank_bands, "standard"),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Brands with P(tier drop) > 0.3", "/analysis/tier_risk/n_alerts", "count"),
        Kpi("Rank-uncertain brands", "/analysis/rank_bands/n_rank_uncertain", "count"),
        Kpi("Data quality band", "/analysis/data_quality/band", "text"),
    ],
)
