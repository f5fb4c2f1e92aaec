"""Report 13, roi_maximization_strategy (SPEC §7 item 13): ROAS = revenue / marketing_spend, marginal ROAS =
Δrevenue / Δspend between consecutive periods with Δspend ≠ 0 (summarised per brand by its median, which a
period with a tiny Δspend cannot swing), ROAS against DC and against Digital Spends, brands ranked by
marginal ROAS."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import corr_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import correlation_insight, f
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

REVENUE, SPEND, DIGITAL = "revenue", "marketing_spend", "Digital Spends"


def _roas_frame(ctx: ReportContext):
    obs = ctx.observations(REVENUE, SPEND)
    obs = obs[obs[SPEND] > 0]
    return obs.assign(roas=obs[REVENUE] / obs[SPEND]).sort_values(["brand_id", "t"])


def roas(ctx: ReportContext, _: dict) -> dict[str, Any]:
    frame = _roas_frame(ctx)
    if frame.empty:
        return insufficient("no brand-period with revenue and a positive marketing_spend", 0, 1)
    latest_period = frame["period"].max()
    latest = frame[frame["period"] == latest_period]
    brands = {}
    for b, g in frame.groupby("brand_id", sort=True):
        last = g[g["period"] == latest_period]
        brands[str(b)] = {
            "brand_name": ctx.name(b),
            "latest_roas": f(last["roas"].iloc[0]) if len(last) else None,
            "mean_roas": float(g["roas"].mean()),
            "n_periods": len(g),
        }
    return ok_block(
        period=iso_date(latest_period),
        portfolio_roas=float(latest[REVENUE].sum() / latest[SPEND].sum()),
        brands=dict(sorted(brands.items(), key=lambda kb: -(kb[1]["latest_roas"] or -np.inf))),
    )


def marginal_roas(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Δrevenue / Δspend between consecutive periods of a brand with Δspend ≠ 0; brands ranked by the median."""
    frame = _roas_frame(ctx)
    brands = {}
    for b, g in frame.groupby("brand_id", sort=True):
        step = g["t"].diff() == 1
        d_rev, d_spend = g[REVENUE].diff()[step], g[SPEND].diff()[step]
        ratio = (d_rev / d_spend)[d_spend != 0]
        if ratio.empty:
            brands[str(b)] = {
                "brand_name": ctx.name(b),
                **insufficient(f"no consecutive periods with a spend change for {ctx.name(b)}", 0, 1),
            }
            continue
        brands[str(b)] = ok_block(
            brand_name=ctx.name(b),
            n_changes=len(ratio),
            median=float(ratio.median()),
            latest=float(ratio.iloc[-1]),
            q25=float(ratio.quantile(0.25)),
            q75=float(ratio.quantile(0.75)),
        )
    ranked = sorted((k for k, v in brands.items() if is_ok(v)), key=lambda k: -brands[k]["median"])
    for rank, key in enumerate(ranked, start=1):
        brands[key]["rank"] = rank
    if not ranked:
        return insufficient("no brand has consecutive periods with a spend change", 0, 1, brands=brands)
    return ok_block(
        definition="Δrevenue / Δspend between consecutive periods with Δspend ≠ 0", ranking=ranked, brands=brands
    )


def roas_correlations(ctx: ReportContext, _: dict) -> dict[str, Any]:
    frame = _roas_frame(ctx)
    return ok_block(
        dc=corr_block(frame["dc"], frame["roas"], ctx.confidence_level, what="brand-periods with DC and ROAS"),
        digital_spends=corr_block(
            frame[DIGITAL], frame["roas"], ctx.confidence_level, what="brand-periods with Digital Spends and ROAS"
        ),
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    r = a["roas"]
    if is_ok(r):
        key = next(iter(r["brands"]))
        B = join_pointer("analysis", "roas", "brands", key)
        out.append(
            insight(
                "",
                "Every unit of marketing spend returned {p} in revenue across the portfolio in {period}; {brand} "
                "returned the most, {best}.",
                [
                    cite(root, "p", "/analysis/roas/portfolio_roas", 2),
                    cite(root, "period", "/analysis/roas/period"),
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "best", B + "/latest_roas", 2),
                ],
                0.85,
            )
        )
    m = a["marginal_roas"]
    if is_ok(m):
        for key in (m["ranking"][0], m["ranking"][-1]) if len(m["ranking"]) > 1 else m["ranking"]:
            B = join_pointer("analysis", "marginal_roas", "brands", key)
            out.append(
                insight(
                    "",
                    "{brand} ranks {rank} on marginal ROAS: a median {median} of extra revenue per extra unit of "
                    "spend over {n} spend changes.",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "rank", B + "/rank", 0),
                        cite(root, "median", B + "/median", 2),
                        cite(root, "n", B + "/n_changes", 0),
                    ],
                    0.7,
                )
            )
    for name, label in (
        ("dc", "ROAS and DC move together:"),
        ("digital_spends", "ROAS and Digital Spends move together:"),
    ):
        item = correlation_insight(root, f"/analysis/roas_correlations/{name}", label)
        if item:
            out.append({**item, "priority": item["priority"] * 0.8})
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    r = a["roas"]
    if is_ok(r):
        out["roas_by_brand"] = charts.bar(
            f"ROAS by brand, {r['period']}",
            "/analysis/roas",
            [b["brand_name"] for b in r["brands"].values()],
            [b["latest_roas"] for b in r["brands"].values()],
            y_label="revenue / marketing spend",
            value_format="coefficient",
        )
        frame = _roas_frame(ctx)
        out["digital_spends_vs_roas"] = charts.scatter(
            "Digital Spends score vs ROAS",
            "/analysis/roas_correlations/digital_spends",
            frame[DIGITAL].tolist(),
            frame["roas"].tolist(),
            [ctx.name(b) for b in frame["brand_id"]],
            x_label="Digital Spends score",
            y_label="ROAS",
        )
    return out


BUILDER = ReportBuilder(
    report_id="roi_maximization_strategy",
    needs=REPORT_NEEDS["roi_maximization_strategy"],
    blocks=(
        Block("roas", roas),
        Block("marginal_roas", marginal_roas),
        Block("roas_correlations", roas_correlations),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Portfolio ROAS, latest period", "/analysis/roas/portfolio_roas", "coefficient"),
        Kpi("Pearson r (ROAS, DC)", "/analysis/roas_correlations/dc/pearson/r", "coefficient"),
    ],
)
