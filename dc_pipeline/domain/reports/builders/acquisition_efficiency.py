"""Report 5, customer_acquisition_efficiency (SPEC §7 item 5): DC vs CAC with the slope's sign, CAC change
per period, CAC index, LTV:CAC, implied acquisitions, the stored CAC model."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import (
    LTV_CAC_FLOOR,
    corr_of,
    correlation_insight,
    f,
    ltv_cac,
    outcome_model_block,
    scatter_by_brand,
    slope_insight,
    slope_of,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

CAC = "customer_acquisition_cost"


def cac_changes(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(CAC).sort_values(["brand_id", "period"])
    brands = {}
    for b, g in obs.groupby("brand_id", sort=True):
        change = g[CAC].diff()
        brands[str(b)] = {
            "brand_name": ctx.name(b),
            "series": [
                {
                    "period": iso_date(p),
                    "cac": float(v),
                    "change": f(c),
                    "change_pct": f(c / prev * 100) if pd.notna(c) else None,
                }
                for p, v, c, prev in zip(g["period"], g[CAC], change, g[CAC].shift())
            ],
        }
    return ok_block(brands=brands)


def cac_index(ctx: ReportContext, _: dict) -> dict[str, Any]:
    latest = ctx.observations(CAC)
    latest = latest[latest["period"] == latest["period"].max()]
    median = float(latest[CAC].median())
    return ok_block(
        period=iso_date(latest["period"].max()),
        portfolio_median=median,
        brands={
            str(r.brand_id): {
                "brand_name": ctx.name(r.brand_id),
                "cac": float(getattr(r, CAC)),
                "index": float(getattr(r, CAC)) / median,
            }
            for r in latest.itertuples()
        },
    )


def implied_acquisitions(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(CAC, "marketing_spend")
    if obs.empty:
        return unavailable_block(
            "missing_input",
            f"missing outcome: marketing_spend has no values with CAC for project {ctx.project_id}",
            0,
            1,
        )
    per = obs.assign(acq=obs["marketing_spend"] / obs[CAC]).groupby("brand_id")
    return ok_block(
        definition="marketing_spend / CAC",
        brands={
            str(b): {
                "brand_name": ctx.name(b),
                "latest_period": iso_date(g["period"].max()),
                "latest": float(g.loc[g["period"].idxmax(), "acq"]),
                "mean": float(g["acq"].mean()),
            }
            for b, g in per
        },
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    c = correlation_insight(
        root,
        "/analysis/correlation",
        "DC and CAC move against each other:"
        if is_ok(a["correlation"]) and a["correlation"]["pearson"]["r"] < 0
        else "DC and CAC move together:",
    )
    if c:
        out.append(c)
    s = a["slope"]
    if is_ok(s):
        direction = "falls" if s["pooled"]["slope"] < 0 else "rises"
        item = slope_insight(
            root,
            "/analysis/slope",
            f"CAC {direction} with DC: the slope is {{slope}} per DC point "
            "({level}% CI {lo} to {hi}; {within_clause} {sig}).",
            3,
            0.9,
        )
        out.append(item)
    ltv = a["ltv_cac"]
    if is_ok(ltv):
        for key, b in ltv["brands"].items():
            if b["below_floor"]:
                B = join_pointer("analysis", "ltv_cac", "brands", key)
                out.append(
                    insight(
                        "",
                        "{brand} earns only {ratio} times its acquisition cost over a customer's "
                        "lifetime (below {floor}).",
                        [
                            cite(root, "brand", B + "/brand_name"),
                            cite(root, "ratio", B + "/ratio", 2),
                            cite(root, "floor", "/analysis/ltv_cac/floor", 0),
                        ],
                        min(1.0, (LTV_CAC_FLOOR - b["ratio"]) / LTV_CAC_FLOOR + 0.3),
                    )
                )
    idx = a["cac_index"]
    if is_ok(idx) and len(idx["brands"]) >= 2:
        key = max(idx["brands"], key=lambda k: idx["brands"][k]["index"])
        B = join_pointer("analysis", "cac_index", "brands", key)
        out.append(
            insight(
                "",
                "{brand} pays the most per customer: CAC {cac}, {index} times the portfolio median.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "cac", B + "/cac", 2),
                    cite(root, "index", B + "/index", 2),
                ],
                min(1.0, idx["brands"][key]["index"] - 1),
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a = root["analysis"]
    out = {
        "dc_vs_cac": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            CAC,
            "dc",
            title="DC vs CAC by brand",
            x_label="DC score",
            y_label="CAC",
            slope_path="/analysis/slope",
        )
    }
    periods = sorted({row["period"] for b in a["cac_changes"]["brands"].values() for row in b["series"]})
    out["cac_over_time"] = charts.line(
        "CAC over time",
        "/analysis/cac_changes",
        periods,
        {
            b["brand_name"]: [{r["period"]: r["cac"] for r in b["series"]}.get(p) for p in periods]
            for b in a["cac_changes"]["brands"].values()
        },
        y_label="CAC",
    )
    if is_ok(a["ltv_cac"]):
        brands = a["ltv_cac"]["brands"].values()
        out["ltv_cac"] = charts.bar(
            "LTV:CAC by brand",
            "/analysis/ltv_cac",
            [b["brand_name"] for b in brands],
            [b["ratio"] for b in brands],
            y_label="LTV / CAC",
            bands=[LTV_CAC_FLOOR],
            value_format="coefficient",
        )
    return out


BUILDER = ReportBuilder(
    report_id="customer_acquisition_efficiency",
    needs=REPORT_NEEDS["customer_acquisition_efficiency"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, CAC)),
        Block("slope", lambda ctx, _: slope_of(ctx, CAC)),
        Block("cac_changes", cac_changes),
        Block("cac_index", cac_index),
        Block("ltv_cac", ltv_cac),
        Block("implied_acquisitions", implied_acquisitions),
        Block("cac_model", lambda ctx, _: outcome_model_block(ctx, CAC), "standard"),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Pearson r (DC, CAC)", "/analysis/correlation/pearson/r", "coefficient"),
        Kpi("CAC change per DC point", "/analysis/slope/pooled/slope", "coefficient"),
        Kpi("Median CAC", "/analysis/cac_index/portfolio_median", "money"),
    ],
)
