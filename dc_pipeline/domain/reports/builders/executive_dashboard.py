"""Report 23, executive_performance_dashboard (SPEC §7 item 23): KPI tiles from data only, each with n and
period (portfolio DC mean and revenue-weighted, its change, tier counts, total revenue and growth, mean share,
mean CAC, LTV:CAC; `not available: <column> absent` otherwise); a scorecard per brand (grade, trend at ±2
points, top and bottom section, DQ band); alerts (tier drops, poor DQ, P(tier drop) > 0.3). Charts: scorecard
bars; section radar; the KPI tiles are the page's tile row."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import ok_block
from dc_pipeline.domain.reports.builders.common import TIER_BANDS
from dc_pipeline.domain.reports.builders.model_inputs import forecast_table, missing_forecasts, p_below_floor
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.health import dq_band
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

GRADES = ((90.0, "Excellent"), (80.0, "Good"), (70.0, "Average"), (60.0, "Below Average"))
TREND_POINTS = 2.0
TIER_DROP_ALERT = 0.3
TIER_ORDER = {"low": 0, "medium": 1, "high": 2}


def grade(dc: float) -> str:
    return next((name for floor, name in GRADES if dc >= floor), "Poor")


def _previous_period(ctx: ReportContext):
    periods = sorted(ctx.panel["period"].unique())
    return periods[-2] if len(periods) >= 2 else None


def _tile(value, n: int, period, **extra) -> dict[str, Any]:
    return {"status": "ok", "value": value, "n": int(n), "period": iso_date(period), **extra}


def _absent(column: str) -> dict[str, Any]:
    return {"status": "missing_input", "value": None, "reason": f"not available: {column} absent"}


def kpi_tiles(ctx: ReportContext, _: dict) -> dict[str, Any]:
    latest, prev = ctx.latest_panel, _previous_period(ctx)
    tiles: dict[str, Any] = {"dc_mean": _tile(float(latest["dc"].mean()), len(latest), ctx.latest)}
    with_rev = latest.dropna(subset=["revenue"])
    tiles["dc_revenue_weighted"] = (
        _tile(float(np.average(with_rev["dc"], weights=with_rev["revenue"])), len(with_rev), ctx.latest)
        if len(with_rev) and with_rev["revenue"].sum() > 0
        else _absent("revenue")
    )
    if prev is not None:
        before = ctx.panel[ctx.panel["period"] == prev]
        same = set(before["brand_id"]) & set(latest["brand_id"])
        change = latest[latest["brand_id"].isin(same)]["dc"].mean() - before[before["brand_id"].isin(same)]["dc"].mean()
        tiles["dc_change"] = _tile(float(change), len(same), ctx.latest, previous_period=iso_date(prev))
    else:
        tiles["dc_change"] = {"status": "insufficient_data", "value": None, "reason": "one period: no change"}
    tiers = ctx.own_brands[(ctx.own_brands["period"] == ctx.latest) & ctx.own_brands["dc_score"].notna()]["tier"]
    for tier in ("high", "medium", "low"):
        tiles[f"tier_{tier}"] = _tile(int((tiers == tier).sum()), len(tiers), ctx.latest)
    if len(with_rev):
        tiles["revenue_total"] = _tile(float(with_rev["revenue"].sum()), len(with_rev), ctx.latest)
        prior = ctx.panel[ctx.panel["period"] == prev].dropna(subset=["revenue"]) if prev is not None else None
        common = set(with_rev["brand_id"]) & set(prior["brand_id"]) if prior is not None else set()
        if common:
            now = with_rev[with_rev["brand_id"].isin(common)]["revenue"].sum()
            then = prior[prior["brand_id"].isin(common)]["revenue"].sum()
            growth = float(now / then - 1)
            tiles["revenue_growth"] = _tile(
                growth, len(common), ctx.latest, percent=100 * growth, previous_period=iso_date(prev)
            )
        else:
            tiles["revenue_growth"] = {"status": "insufficient_data", "value": None, "reason": "no earlier revenue"}
    else:
        tiles["revenue_total"] = tiles["revenue_growth"] = _absent("revenue")
    for key, column in (("market_share_mean", "market_share"), ("cac_mean", "customer_acquisition_cost")):
        rows = latest.dropna(subset=[column])
        tiles[key] = _tile(float(rows[column].mean()), len(rows), ctx.latest) if len(rows) else _absent(column)
    both = latest.dropna(subset=["customer_lifetime_value", "customer_acquisition_cost"])
    tiles["ltv_cac"] = (
        _tile(
            float((both["customer_lifetime_value"] / both["customer_acquisition_cost"]).mean()), len(both), ctx.latest
        )
        if len(both)
        else _absent(
            "customer_lifetime_value" if latest["customer_lifetime_value"].isna().all() else "customer_acquisition_cost"
        )
    )
    return ok_block(period=iso_date(ctx.latest), tiles=tiles)


def scorecards(ctx: ReportContext, _: dict) -> dict[str, Any]:
    prev = _previous_period(ctx)
    per_brand = (ctx.data.dq or {}).get("per_brand") or {}
    brands = {}
    for row in ctx.latest_panel.sort_values(["dc", "brand_id"], ascending=[False, True]).to_dict("records"):
        r = SimpleNamespace(**{k: v for k, v in row.items() if k.isidentifier()})
        before = ctx.panel[(ctx.panel["brand_id"] == r.brand_id) & (ctx.panel["period"] == prev)]["dc"]
        change = float(r.dc - before.iloc[0]) if len(before) else None
        sections = {s: float(row.get(s, np.nan)) for s in SECTIONS}
        defined = {s: v for s, v in sections.items() if np.isfinite(v)}
        dq = per_brand.get(f"b{r.brand_id}") or {}
        brands[str(r.brand_id)] = {
            "brand_id": int(r.brand_id),
            "brand_name": ctx.name(r.brand_id),
            "dc": float(r.dc),
            "grade": grade(float(r.dc)),
            "change": change,
            "trend": None
            if change is None
            else "up"
            if change >= TREND_POINTS
            else "down"
            if change <= -TREND_POINTS
            else "steady",
            "top_section": max(defined, key=defined.get) if defined else None,
            "bottom_section": min(defined, key=defined.get) if defined else None,
            "sections": sections,
            "dq_band": dq.get("band") or dq_band(dq.get("score")),
        }
    return ok_block(period=iso_date(ctx.latest), trend_points=TREND_POINTS, brands=brands)


def alerts(ctx: ReportContext, done: dict) -> dict[str, Any]:
    found = []
    prev = _previous_period(ctx)
    own = ctx.own_brands[ctx.own_brands["dc_score"].notna()]
    if prev is not None:
        before = ctx.data.scores.brands
        before = before[(before["period"] == prev) & before["brand_id"].isin(own["brand_id"])]
        was = dict(zip(before["brand_id"], before["tier"]))
        for r in own[own["period"] == ctx.latest].itertuples():
            if r.brand_id in was and TIER_ORDER.get(r.tier, 0) < TIER_ORDER.get(was[r.brand_id], 0):
                found.append(
                    {
                        "kind": "tier_drop",
                        "brand_name": ctx.name(r.brand_id),
                        "from": was[r.brand_id],
                        "to": r.tier,
                        "period": iso_date(ctx.latest),
                    }
                )
    dq = ctx.data.dq or {}
    if dq_band(dq.get("score")) == "poor":
        found.append({"kind": "poor_dq", "brand_name": None, "score": dq.get("score")})
    for b in done["scorecards"]["brands"].values():
        if b["dq_band"] == "poor":
            found.append({"kind": "poor_dq", "brand_name": b["brand_name"]})
    risk_status = "not loaded"
    if forecast_table(ctx, "brand_forecasts") is not None:
        risk_status = "ok"
        for key, b in done["scorecards"]["brands"].items():
            p = p_below_floor(ctx, int(key), b["dc"])
            if p["status"] == "ok" and p["p"] > TIER_DROP_ALERT:
                found.append(
                    {
                        "kind": "tier_drop_risk",
                        "brand_name": b["brand_name"],
                        "p": p["p"],
                        "floor": p["floor"],
                        "period": p["period"],
                    }
                )
    return ok_block(
        n_alerts=len(found),
        tier_drop_threshold=TIER_DROP_ALERT,
        forecast_risk=risk_status if risk_status == "ok" else missing_forecasts(ctx),
        alerts=found,
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    T = "/analysis/kpi_tiles/tiles"
    tiles = a["kpi_tiles"]["tiles"]
    figures = [
        cite(root, "mean", T + "/dc_mean/value"),
        cite(root, "n", T + "/dc_mean/n", 0),
        cite(root, "period", T + "/dc_mean/period"),
    ]
    text = "Portfolio DC averages {mean} across {n} brands in {period}"
    if tiles["dc_change"]["status"] == "ok":
        figures.append(cite(root, "change", T + "/dc_change/value", 1, signed=True))
        text += " ({change} on the previous period)"
    out.append(insight("", text + ".", figures, 0.9))
    if tiles["revenue_growth"]["status"] == "ok":
        out.append(
            insight(
                "",
                "Revenue totals {total} in {period}, {growth}% on the previous period for {n} brands.",
                [
                    cite(root, "total", T + "/revenue_total/value", 0),
                    cite(root, "period", T + "/revenue_total/period"),
                    cite(root, "growth", T + "/revenue_growth/percent", 1, signed=True),
                    cite(root, "n", T + "/revenue_growth/n", 0),
                ],
                min(1.0, 0.5 + abs(tiles["revenue_growth"]["value"])),
            )
        )
    for i, alert in enumerate(a["alerts"]["alerts"][:5]):
        A = f"/analysis/alerts/alerts/{i}"
        if alert["kind"] == "tier_drop":
            out.append(
                insight(
                    "",
                    "Alert: {brand} dropped from the {a} to the {b} tier in {period}.",
                    [
                        cite(root, "brand", A + "/brand_name"),
                        cite(root, "a", A + "/from"),
                        cite(root, "b", A + "/to"),
                        cite(root, "period", A + "/period"),
                    ],
                    0.95,
                )
            )
        elif alert["kind"] == "tier_drop_risk":
            out.append(
                insight(
                    "",
                    "Alert: {brand} has a {p} probability of falling below DC {floor} by {period}.",
                    [
                        cite(root, "brand", A + "/brand_name"),
                        cite(root, "p", A + "/p", 2),
                        cite(root, "floor", A + "/floor", 0),
                        cite(root, "period", A + "/period"),
                    ],
                    alert["p"],
                )
            )
    sc = a["scorecards"]["brands"]
    movers = [k for k, b in sc.items() if b["trend"] in ("up", "down")]
    for key in sorted(movers, key=lambda k: -abs(sc[k]["change"]))[:2]:
        B = join_pointer("analysis", "scorecards", "brands", key)
        out.append(
            insight(
                "",
                "{brand} ({grade}) moved {change} DC points; strongest section {top}, weakest {bottom}.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "grade", B + "/grade"),
                    cite(root, "change", B + "/change", 1, signed=True),
                    cite(root, "top", B + "/top_section"),
                    cite(root, "bottom", B + "/bottom_section"),
                ],
                min(1.0, abs(sc[key]["change"]) / 10),
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    sc = root["analysis"]["scorecards"]["brands"]
    lowest = min((v for b in sc.values() for v in b["sections"].values() if np.isfinite(v)), default=0.0)
    return {
        "scorecard": charts.bar(
            f"Scorecard: DC by brand, {root['analysis']['scorecards']['period']}",
            "/analysis/scorecards",
            [b["brand_name"] for b in sc.values()],
            [b["dc"] for b in sc.values()],
            y_label="DC score",
            bands=TIER_BANDS,
        ),
        "section_radar": charts.radar(
            "Section scores by brand",
            "/analysis/scorecards",
            list(SECTIONS),
            {
                b["brand_name"]: [b["sections"][s] if np.isfinite(b["sections"][s]) else None for s in SECTIONS]
                for b in sc.values()
            },
            r_min=float(max(0.0, 10 * np.floor(lowest / 10) - 10)),  # the radius starts below the lowest section
        ),
    }


def _kpis(root: dict, ctx: ReportContext) -> list[Kpi]:
    T = "/analysis/kpi_tiles/tiles"
    return [
        Kpi("Portfolio DC (mean)", T + "/dc_mean/value"),
        Kpi("Revenue-weighted DC", T + "/dc_revenue_weighted/value"),
        Kpi("DC change", T + "/dc_change/value", "coefficient"),
        Kpi("Brands in high tier", T + "/tier_high/value", "count"),
        Kpi("Total revenue", T + "/revenue_total/value", "money"),
        Kpi("Revenue growth", T + "/revenue_growth/percent", "percent"),
        Kpi("Mean market share", T + "/market_share_mean/value", "coefficient"),
        Kpi("Mean CAC", T + "/cac_mean/value", "money"),
        Kpi("LTV:CAC", T + "/ltv_cac/value", "coefficient"),
        Kpi("Alerts", "/analysis/alerts/n_alerts", "count"),
    ]


BUILDER = ReportBuilder(
    report_id="executive_performance_dashboard",
    needs=REPORT_NEEDS["executive_performance_dashboard"],
    blocks=(Block("kpi_tiles", kpi_tiles), Block("scorecards", scorecards), Block("alerts", alerts)),
    insights=_insights,
    charts=_charts,
    kpis=_kpis,
)
