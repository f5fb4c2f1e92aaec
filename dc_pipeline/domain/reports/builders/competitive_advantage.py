"""Report 14, competitive_advantage_analysis (SPEC §7 item 14): per section, platform and metric, each brand's
gap to its best competitor (brands with role `competitor`, else the best other brand) and to the cohort mean,
its percentile, advantage (>= the cohort's p75) or disadvantage (<= p25), whether that label was held in at
least 75 % of the last min(6, n) periods, the slope of its gap to the cohort mean over time, and per section
the size-fair gap: the residual of the section score regressed on log revenue across brands (>= 5 brands).

Sections come from the time line's panel; platforms and metrics from the project's own periods (another
project of the series may define other platforms and metrics)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dc_pipeline.domain.portfolio.cohort import cohort_labels, cohort_standing
from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.blocks.trend import period_numbers
from dc_pipeline.domain.reports.builders.common import missing_outcomes
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

WINDOW = 6
SUSTAINED_SHARE = 0.75
MIN_SIZE_FAIR_BRANDS = 5
LABELS = {"strength": "advantage", "weakness": "disadvantage", "neutral": "neutral"}


def _best_rivals(rows: pd.DataFrame, competitors: set[int]) -> pd.DataFrame:
    """Per row (a brand in one item's cohort): the best rival's id, value and role (competitors other than the
    brand itself, else any other brand)."""
    ids, vals = rows["brand_id"].to_numpy(int), rows["value"].to_numpy(float)
    other = ~np.eye(ids.size, dtype=bool)
    comp = other & np.isin(ids, list(competitors))[None, :]
    pool = np.where(comp.any(axis=1)[:, None], comp, other)
    masked = np.where(pool, vals[None, :], -np.inf)
    best = masked.argmax(axis=1)
    found = pool.any(axis=1)
    return pd.DataFrame(
        {
            "best_rival": np.where(found, ids[best], -1),
            "rival_value": np.where(found, masked[np.arange(ids.size), best], np.nan),
            "rival_role": np.where(comp.any(axis=1), "competitor", np.where(found, "other brand", None)),
        },
        index=rows.index,
    )


def _gap_trends(labels: pd.DataFrame, item: str) -> pd.DataFrame:
    """OLS slope and two-sided p of each (item, brand)'s gap to the cohort mean over period numbers, from
    grouped sums (scipy.stats.linregress per group, vectorised); NaN below 3 periods or without spread in t."""
    g = labels.assign(tt=labels["t"] ** 2, yy=labels["gap_to_mean"] ** 2, ty=labels["t"] * labels["gap_to_mean"])
    sums = g.groupby([item, "brand_id"])[["t", "gap_to_mean", "tt", "yy", "ty"]].sum()
    n = g.groupby([item, "brand_id"]).size()
    sxx = sums["tt"] - sums["t"] ** 2 / n
    syy = sums["yy"] - sums["gap_to_mean"] ** 2 / n
    sxy = sums["ty"] - sums["t"] * sums["gap_to_mean"] / n
    ok = (n >= 3) & (sxx > 1e-12)
    slope = (sxy / sxx).where(ok)
    r = (sxy / np.sqrt(sxx * syy)).where(ok & (syy > 1e-12)).clip(-1, 1)
    t_stat = r * np.sqrt((n - 2) / np.maximum(1e-300, 1 - r**2))
    p = pd.Series(2 * stats.t.sf(np.abs(t_stat), np.maximum(n - 2, 1)), index=n.index).where(r.notna())
    return pd.DataFrame({"slope": slope, "p": p})


def standings(ctx: ReportContext, frame: pd.DataFrame, item: str) -> dict[str, Any]:
    """`frame`: brand_id, period, t, `item` (the section / platform / metric label) and value."""
    frame = frame.dropna(subset=["value"]).reset_index(drop=True)
    if frame.empty:
        return insufficient(f"no {item} scores in the project's periods", 0, 1)
    periods = sorted(frame["period"].unique())
    window = periods[-min(WINDOW, len(periods)) :]
    cohort = [frame["period"], frame[item]]
    labels = frame.assign(
        label=cohort_labels(frame["value"], cohort).map(LABELS),
        gap_to_mean=frame["value"] - frame.groupby(cohort)["value"].transform("mean"),
    )
    latest = labels[labels["period"] == periods[-1]]
    recent = labels[labels["period"].isin(window)].merge(
        latest[[item, "brand_id", "label"]], on=[item, "brand_id"], suffixes=("", "_latest")
    )
    held = (recent["label"] == recent["label_latest"]).groupby([recent[item], recent["brand_id"]]).sum()
    competitors = set(ctx.data.brands.loc[ctx.data.brands["role"] == "competitor", "brand_id"].astype(int))
    rivals = pd.concat([_best_rivals(rows, competitors) for _, rows in latest.groupby(item, sort=False)])
    table = latest.join(rivals).join(cohort_standing(latest["value"], [latest[item]])["percentile"])
    table = table.join(_gap_trends(labels, item), on=[item, "brand_id"]).join(
        held.rename("held"), on=[item, "brand_id"]
    )
    out: dict[str, Any] = {}
    for r in table.itertuples():
        rival = None if r.best_rival < 0 else int(r.best_rival)
        gap = None if rival is None else float(r.value - r.rival_value)
        out.setdefault(str(getattr(r, item)), {})[str(r.brand_id)] = {
            "brand_name": ctx.name(r.brand_id),
            "item": str(getattr(r, item)),
            "value": float(r.value),
            "gap_to_mean": float(r.gap_to_mean),
            "best_rival_id": rival,
            "best_rival_role": r.rival_role,
            "best_rival_name": None if rival is None else ctx.name(rival),
            "gap_to_best_rival": gap,
            "gap_to_best_rival_abs": None if gap is None else abs(gap),
            "percentile": float(r.percentile),
            "label": r.label,
            "periods_held": int(r.held),
            "window_periods": len(window),
            "sustained": r.label != "neutral" and r.held >= SUSTAINED_SHARE * len(window),
            "gap_trend_per_period": None if pd.isna(r.slope) else float(r.slope),
            "gap_trend_p": None if pd.isna(r.p) else float(r.p),
        }
    held_labels = [b["label"] for entry in out.values() for b in entry.values() if b["sustained"]]
    return ok_block(
        period=iso_date(periods[-1]),
        window=[iso_date(p) for p in window],
        sustained_advantages=held_labels.count("advantage"),
        sustained_disadvantages=held_labels.count("disadvantage"),
        items=out,
    )


def _long(ctx: ReportContext, frame: pd.DataFrame, item: str, value: str) -> pd.DataFrame:
    own = frame[(frame["project_id"] == ctx.project_id) & frame["brand_id"].isin(ctx.names)]
    own = own.assign(period=pd.to_datetime(own["period"]))
    if ctx.latest is not None:
        own = own[own["period"] <= ctx.latest]
    t = period_numbers(own["period"], ctx.data.months_per_period) if len(own) else []
    return pd.DataFrame(
        {
            "brand_id": own["brand_id"].astype(int),
            "period": own["period"],
            "t": t,
            item: own[item],
            "value": own[value].astype(float),
        }
    )


def section_standings(ctx: ReportContext, _: dict) -> dict[str, Any]:
    panel = ctx.panel.melt(
        id_vars=["brand_id", "period", "t"], value_vars=list(SECTIONS), var_name="section", value_name="value"
    )
    return standings(ctx, panel, "section")


def platform_standings(ctx: ReportContext, _: dict) -> dict[str, Any]:
    p = ctx.data.scores.platforms
    frame = _long(ctx, p.assign(platform=p["section_name"] + " / " + p["platform_name"]), "platform", "platform_score")
    return standings(ctx, frame, "platform")


def metric_standings(ctx: ReportContext, _: dict) -> dict[str, Any]:
    m = ctx.data.scores.metrics
    label = m["section_name"] + " / " + m["platform_name"] + " / " + m["metric_name"]
    return standings(ctx, _long(ctx, m.assign(metric=label), "metric", "directed_score"), "metric")


def size_fair_gaps(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Per section in the latest period: residual of the score on log revenue across brands (OLS)."""
    latest = ctx.latest_panel.dropna(subset=["revenue"])
    latest = latest[latest["revenue"] > 0]
    if ctx.panel["revenue"].notna().sum() == 0:
        return missing_outcomes(ctx, "revenue")
    if len(latest) < MIN_SIZE_FAIR_BRANDS:
        return insufficient(
            f"too few brands with revenue: {len(latest)} in the latest period, {MIN_SIZE_FAIR_BRANDS} needed for "
            "size-fair gaps",
            len(latest),
            MIN_SIZE_FAIR_BRANDS,
        )
    x = np.log(latest["revenue"].to_numpy(float))
    sections = {}
    for s in SECTIONS:
        y = latest[s].to_numpy(float)
        fit = stats.linregress(x, y)
        resid = y - (fit.intercept + fit.slope * x)
        brands = {
            str(b): {
                "brand_name": ctx.name(b),
                "score": float(v),
                "size_fair_gap": float(e),
                "size_fair_gap_abs": abs(float(e)),
            }
            for b, v, e in zip(latest["brand_id"], y, resid)
        }
        sections[s] = {"slope_per_log_revenue": float(fit.slope), "r2": float(fit.rvalue**2), "brands": brands}
    return ok_block(period=iso_date(ctx.latest), n_brands=len(latest), sections=sections)


def _focal(ctx: ReportContext) -> int:
    primary = ctx.data.brands.loc[ctx.data.brands["role"] == "primary", "brand_id"]
    return int(primary.iloc[0]) if len(primary) else int(min(ctx.names))


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    sec = a["section_standings"]
    for section, brands in sec["items"].items() if is_ok(sec) else []:
        for key, b in brands.items():
            B = join_pointer("analysis", "section_standings", "items", section, key)
            if b["sustained"]:
                out.append(
                    insight(
                        "",
                        f"{{brand}} holds a sustained {b['label']} in {{section}} (percentile {{pct}}), held in "
                        "{held} of the last {window} periods.",
                        [
                            cite(root, "brand", B + "/brand_name"),
                            cite(root, "section", B + "/item"),
                            cite(root, "pct", B + "/percentile", 0),
                            cite(root, "held", B + "/periods_held", 0),
                            cite(root, "window", B + "/window_periods", 0),
                        ],
                        0.8 * abs(b["percentile"] - 50) / 50,
                    )
                )
    if is_ok(sec):
        gaps = [
            (s, k, b["gap_to_best_rival"])
            for s, bs in sec["items"].items()
            for k, b in bs.items()
            if b["gap_to_best_rival"] is not None
        ]
        if gaps:
            s, key, gap = min(gaps, key=lambda t: t[2])
            B = join_pointer("analysis", "section_standings", "items", s, key)
            out.append(
                insight(
                    "",
                    "The widest competitive gap: {brand} trails {rival} in {section} by {gap} points.",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "rival", B + "/best_rival_name"),
                        cite(root, "section", B + "/item"),
                        cite(root, "gap", B + "/gap_to_best_rival_abs"),
                    ],
                    min(1.0, abs(gap) / 20),
                )
            )
    fair = a["size_fair_gaps"]
    if is_ok(fair):
        cells = [(s, k, b["size_fair_gap"]) for s, v in fair["sections"].items() for k, b in v["brands"].items()]
        s, key, gap = max(cells, key=lambda t: abs(t[2]))
        B = join_pointer("analysis", "size_fair_gaps", "sections", s, "brands", key)
        word = "above" if gap > 0 else "below"
        out.append(
            insight(
                "",
                f"Allowing for revenue size, {{brand}} scores {{gap}} points {word} what its revenue predicts in {s}.",
                [cite(root, "brand", B + "/brand_name"), cite(root, "gap", B + "/size_fair_gap_abs")],
                min(1.0, abs(gap) / 20),
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    sec = a["section_standings"]
    if not is_ok(sec):
        return out
    focal = str(_focal(ctx))
    present = [s for s in SECTIONS if s in sec["items"] and focal in sec["items"][s]]
    out["gap_to_best_rival"] = charts.bar(
        f"{ctx.name(int(focal))}: section gap to the best rival, {sec['period']} (points)",
        "/analysis/section_standings",
        present,
        [sec["items"][s][focal]["gap_to_best_rival"] for s in present],
        y_label="brand minus best rival",
        value_format="coefficient",
    )
    brands = sorted({k for s in sec["items"].values() for k in s}, key=int)
    out["percentile_heatmap"] = charts.heatmap(
        f"Percentile within the cohort, {sec['period']}",
        "/analysis/section_standings",
        [ctx.name(int(k)) for k in brands],
        list(SECTIONS),
        [[sec["items"].get(s, {}).get(k, {}).get("percentile") for s in SECTIONS] for k in brands],
        value_label="percentile",
        vmin=0,
        vmax=100,
    )
    return out


BUILDER = ReportBuilder(
    report_id="competitive_advantage_analysis",
    needs=REPORT_NEEDS["competitive_advantage_analysis"],
    blocks=(
        Block("section_standings", section_standings),
        Block("platform_standings", platform_standings, "standard"),
        Block("metric_standings", metric_standings, "detailed"),
        Block("size_fair_gaps", size_fair_gaps),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Sustained section advantages", "/analysis/section_standings/sustained_advantages", "count"),
        Kpi("Sustained section disadvantages", "/analysis/section_standings/sustained_disadvantages", "count"),
    ],
)
