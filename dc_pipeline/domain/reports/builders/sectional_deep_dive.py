"""Report 2, sectional_score_deep_dive (SPEC §7 item 2): per-section standing, strengths and weaknesses,
platform scores, metric contributions, section balance and the Spearman matrix of sections."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import spearman_matrix
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import brand_pointer, f
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

STRENGTH, WEAKNESS = 75.0, 50.0


def _label(score: float) -> str:
    return "strength" if score >= STRENGTH else "weakness" if score <= WEAKNESS else "neutral"


def sections(ctx: ReportContext, _: dict) -> dict[str, Any]:
    out = {}
    for s in SECTIONS:
        rows = ctx.latest_panel.dropna(subset=[s]).sort_values([s, "brand_id"], ascending=[False, True])
        if rows.empty:
            out[s] = insufficient(f"no {s} scores in {iso_date(ctx.latest)}", 0, 1)
            continue
        top = float(rows[s].iloc[0])
        brands = {
            str(b): {
                "brand_name": ctx.name(b),
                "score": float(v),
                "gap_to_leader": top - float(v),
                "label": _label(float(v)),
            }
            for b, v in zip(rows["brand_id"], rows[s])
        }
        out[s] = ok_block(
            section=s,
            mean=float(rows[s].mean()),
            median=float(rows[s].median()),
            leader_brand_id=int(rows["brand_id"].iloc[0]),
            leader=ctx.name(rows["brand_id"].iloc[0]),
            leader_score=top,
            brands=brands,
        )
    return ok_block(period=iso_date(ctx.latest), strength_at=STRENGTH, weakness_at=WEAKNESS, sections=out)


def brand_profiles(ctx: ReportContext, _: dict) -> dict[str, Any]:
    brands = {}
    for row in ctx.latest_panel.sort_values("brand_id").to_dict("records"):
        scores = {s: f(row.get(s)) for s in SECTIONS}
        scores = {s: v for s, v in scores.items() if v is not None}
        if not scores:
            continue
        values = np.array(list(scores.values()))
        mean = float(values.mean())
        brands[str(row["brand_id"])] = {
            "brand_name": ctx.name(row["brand_id"]),
            "scores": scores,
            "strongest": max(scores, key=scores.get),
            "weakest": min(scores, key=scores.get),
            "strongest_score": max(scores.values()),
            "weakest_score": min(scores.values()),
            "balance": None if len(values) < 2 or mean == 0 else 1 - float(values.std(ddof=1)) / mean,
        }
    return ok_block(
        period=iso_date(ctx.latest), balance_definition="1 - sd/mean of the brand's section scores", brands=brands
    )


def platforms(ctx: ReportContext, _: dict) -> dict[str, Any]:
    p = ctx.data.scores.platforms
    p = p[(p["project_id"] == ctx.project_id) & (p["period"] == ctx.latest)]
    if p.empty:
        return insufficient(f"no platform scores in {iso_date(ctx.latest)}", 0, 1)
    rows = []
    for (section, platform), g in p.groupby(["section_name", "platform_name"], sort=True):
        rows.append(
            {
                "section": section,
                "platform": platform,
                "mean": float(g["platform_score"].mean()),
                "min": float(g["platform_score"].min()),
                "max": float(g["platform_score"].max()),
                "brands": {str(b): float(v) for b, v in zip(g["brand_id"], g["platform_score"])},
            }
        )
    return ok_block(period=iso_date(ctx.latest), platforms=rows)


def metric_contributions(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Per section: each brand's largest contribution and largest shortfall metric."""
    m = ctx.data.scores.metrics
    m = m[(m["project_id"] == ctx.project_id) & (m["period"] == ctx.latest) & m["contribution"].notna()]
    if m.empty:
        return insufficient(f"no metric contributions in {iso_date(ctx.latest)}", 0, 1)
    out: dict[str, Any] = {}
    for (section, brand_id), g in m.groupby(["section_name", "brand_id"], sort=True):
        top, gap = g.loc[g["contribution"].idxmax()], g.loc[g["shortfall"].idxmax()]
        out.setdefault(section, {})[str(brand_id)] = {
            "brand_name": ctx.name(brand_id),
            "contribution": float(g["contribution"].sum()),
            "shortfall": float(g["shortfall"].sum()),
            "top_metric": top["metric_name"],
            "top_contribution": float(top["contribution"]),
            "gap_metric": gap["metric_name"],
            "gap_platform": gap["platform_name"],
            "gap_shortfall": float(gap["shortfall"]),
        }
    return ok_block(period=iso_date(ctx.latest), sections=out)


def section_correlation(ctx: ReportContext, _: dict) -> dict[str, Any]:
    return spearman_matrix(ctx.panel, list(SECTIONS))


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    for s, block in a["sections"]["sections"].items():
        if not is_ok(block):
            continue
        S = join_pointer("analysis", "sections", "sections", s)
        out.append(
            insight(
                "",
                "{leader} leads {section} at {score}; the portfolio mean is {mean}.",
                [
                    cite(root, "leader", S + "/leader"),
                    cite(root, "section", S + "/section"),
                    cite(root, "score", S + "/leader_score"),
                    cite(root, "mean", S + "/mean"),
                ],
                (block["leader_score"] - block["mean"]) / 100,
            )
        )
        weak = [k for k, b in block["brands"].items() if b["label"] == "weakness"]
        for key in weak:
            B = f"{S}/brands/{key}"
            out.append(
                insight(
                    "",
                    "{brand} is weak in {section} at {score} (at or below {limit}).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "section", S + "/section"),
                        cite(root, "score", B + "/score"),
                        cite(root, "limit", "/analysis/sections/weakness_at", 0),
                    ],
                    (WEAKNESS - block["brands"][key]["score"] + 10) / 100,
                )
            )
    for key, b in a["brand_profiles"]["brands"].items():
        B = brand_pointer("brand_profiles", key)
        out.append(
            insight(
                "",
                "{brand} is strongest in {best} ({hi}) and weakest in {worst} ({lo}); balance {bal}.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "best", B + "/strongest"),
                    cite(root, "hi", B + "/strongest_score"),
                    cite(root, "worst", B + "/weakest"),
                    cite(root, "lo", B + "/weakest_score"),
                    cite(root, "bal", B + "/balance", 3),
                ],
                (b["strongest_score"] - b["weakest_score"]) / 100,
            )
        )
    corr = a["section_correlation"]
    if is_ok(corr):
        pairs = [
            (x, y, corr["matrix"][x][y])
            for i, x in enumerate(SECTIONS)
            for y in SECTIONS[i + 1 :]
            if corr["matrix"][x][y] is not None
        ]
        if pairs:
            x, y, rho = max(pairs, key=lambda t: abs(t[2]))
            P = join_pointer("analysis", "section_correlation", "matrix", x, y)
            out.append(
                insight(
                    "",
                    "{x} and {y} move together most closely: Spearman rho {rho} over {n} brand-periods.",
                    [
                        cite(root, "x", "/analysis/section_correlation/columns/" + str(SECTIONS.index(x))),
                        cite(root, "y", "/analysis/section_correlation/columns/" + str(SECTIONS.index(y))),
                        cite(root, "rho", P, 3),
                        cite(root, "n", "/analysis/section_correlation/n", 0),
                    ],
                    abs(rho) / 2,
                )
            )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    m = root["analysis"]["metric_contributions"]
    if not is_ok(m):
        return []
    rows = [(s, k, b) for s, brands in m["sections"].items() for k, b in brands.items()]
    out = []
    for s, key, b in sorted(rows, key=lambda t: -t[2]["gap_shortfall"]):
        P = join_pointer("analysis", "metric_contributions", "sections", s, key)
        out.append(
            recommendation(
                "",
                "{brand}: in {section}, {metric} on {platform} holds back {gap} DC points.",
                [
                    cite(root, "brand", P + "/brand_name"),
                    cite(root, "section", join_pointer("analysis", "sections", "sections", s, "section")),
                    cite(root, "metric", P + "/gap_metric"),
                    cite(root, "platform", P + "/gap_platform"),
                    cite(root, "gap", P + "/gap_shortfall", 2),
                ],
                brand_id=int(key),
                section=s,
                expected_delta_dc=b["gap_shortfall"],
                effort=None,
                source=P,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a = root["analysis"]
    profiles = a["brand_profiles"]["brands"]
    keys = list(profiles)
    values = [v for k in keys for v in profiles[k]["scores"].values()]
    low, high = (float(np.floor(min(values) / 5) * 5), float(np.ceil(max(values) / 5) * 5)) if values else (0.0, 100.0)
    out = {
        "section_heatmap": charts.heatmap(
            "Section scores by brand",
            "/analysis/brand_profiles",
            [profiles[k]["brand_name"] for k in keys],
            list(SECTIONS),
            [[profiles[k]["scores"].get(s) for s in SECTIONS] for k in keys],
            value_label="score",
            vmin=low,
            vmax=max(high, low + 5),
            supports=["/analysis/brand_profiles", "/analysis/sections"],
        )
    }
    out["section_radar"] = charts.radar(
        "Section profile per brand",
        "/analysis/brand_profiles",
        list(SECTIONS),
        {profiles[k]["brand_name"]: [profiles[k]["scores"].get(s) for s in SECTIONS] for k in keys},
        r_min=max(0.0, low - 10),
    )
    if is_ok(a["platforms"]):
        rows = a["platforms"]["platforms"]
        out["platform_scores"] = charts.bar(
            "Mean platform score across brands",
            "/analysis/platforms",
            [f"{r['section']}: {r['platform']}" for r in rows],
            [r["mean"] for r in rows],
            y_label="platform score",
        )
    return out


def _kpis(root: dict, ctx: ReportContext) -> list[Kpi]:
    return [Kpi(f"{s} leader", f"/analysis/sections/sections/{s}/leader", "text") for s in SECTIONS]


BUILDER = ReportBuilder(
    report_id="sectional_score_deep_dive",
    needs=REPORT_NEEDS["sectional_score_deep_dive"],
    blocks=(
        Block("sections", sections),
        Block("brand_profiles", brand_profiles),
        Block("platforms", platforms),
        Block("metric_contributions", metric_contributions),
        Block("section_correlation", section_correlation),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=_kpis,
)
