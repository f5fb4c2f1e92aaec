"""Report 6, brand_equity_correlation (SPEC §7 item 6): DC and section correlations with brand equity,
standardised ridge coefficients of equity on the sections (n >= 10), equity gap to the leader."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import RidgeCV

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import (
    corr_of,
    correlation_insight,
    scatter_by_brand,
    section_correlations,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

EQUITY = "brand_equity_index"
MIN_RIDGE_N = 10
ALPHAS = np.logspace(-3, 3, 13)


def ridge(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Equity on the four sections, both standardised; alpha by efficient leave-one-out (RidgeCV)."""
    obs = ctx.observations(EQUITY, *SECTIONS)
    n = len(obs)
    if n < MIN_RIDGE_N:
        return insufficient(
            f"insufficient observations: {n} brand-periods with equity and all four sections, "
            f"{MIN_RIDGE_N} needed for ridge coefficients",
            n,
            MIN_RIDGE_N,
        )
    x = obs[list(SECTIONS)].to_numpy(dtype=float)
    y = obs[EQUITY].to_numpy(dtype=float)
    sd = x.std(axis=0)
    if (sd == 0).any() or y.std() == 0:
        return insufficient("no variation in a section or in equity", n, MIN_RIDGE_N)
    model = RidgeCV(alphas=ALPHAS).fit((x - x.mean(axis=0)) / sd, (y - y.mean()) / y.std())
    coefs = {s: float(c) for s, c in zip(SECTIONS, model.coef_)}
    top = max(coefs, key=lambda s: abs(coefs[s]))
    return ok_block(
        n=n,
        alpha=float(model.alpha_),
        standardised_coefficients=coefs,
        largest=top,
        r2=float(model.score((x - x.mean(axis=0)) / sd, (y - y.mean()) / y.std())),
    )


def equity_gap(ctx: ReportContext, _: dict) -> dict[str, Any]:
    obs = ctx.observations(EQUITY)
    latest = obs[obs["period"] == obs["period"].max()].sort_values(EQUITY, ascending=False)
    top = float(latest[EQUITY].iloc[0])
    return ok_block(
        period=iso_date(latest["period"].max()),
        leader=ctx.name(latest["brand_id"].iloc[0]),
        leader_equity=top,
        brands={
            str(r.brand_id): {
                "brand_name": ctx.name(r.brand_id),
                "equity": float(getattr(r, EQUITY)),
                "gap_to_leader": top - float(getattr(r, EQUITY)),
            }
            for r in latest.itertuples()
        },
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    c = correlation_insight(root, "/analysis/correlation", "DC and brand equity move together:")
    if c:
        out.append(c)
    r = a["ridge"]
    if is_ok(r):
        P = "/analysis/ridge"
        out.append(
            insight(
                "",
                "Holding the other sections fixed, {section} carries the most weight for equity "
                "(standardised ridge coefficient {coef}, n = {n}).",
                [
                    cite(root, "section", P + "/largest"),
                    cite(root, "coef", f"{P}/standardised_coefficients/{r['largest']}", 3),
                    cite(root, "n", P + "/n", 0),
                ],
                abs(r["standardised_coefficients"][r["largest"]]),
            )
        )
    gap = a["equity_gap"]
    if is_ok(gap) and len(gap["brands"]) >= 2:
        key = max(gap["brands"], key=lambda k: gap["brands"][k]["gap_to_leader"])
        B = join_pointer("analysis", "equity_gap", "brands", key)
        out.append(
            insight(
                "",
                "{brand} trails {leader} by {gap} equity points ({eq} vs {top}).",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "leader", "/analysis/equity_gap/leader"),
                    cite(root, "gap", B + "/gap_to_leader"),
                    cite(root, "eq", B + "/equity"),
                    cite(root, "top", "/analysis/equity_gap/leader_equity"),
                ],
                gap["brands"][key]["gap_to_leader"] / 100,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    out = {
        "dc_vs_equity": scatter_by_brand(
            ctx,
            root,
            "/analysis/correlation",
            EQUITY,
            "dc",
            title="DC vs brand equity by brand",
            x_label="DC score",
            y_label="brand equity index",
        )
    }
    r = root["analysis"]["ridge"]
    if is_ok(r):
        out["ridge_coefficients"] = charts.bar(
            "Standardised ridge coefficients of equity on sections",
            "/analysis/ridge",
            list(SECTIONS),
            [r["standardised_coefficients"][s] for s in SECTIONS],
            y_label="standardised coefficient",
            value_format="coefficient",
        )
    return out


BUILDER = ReportBuilder(
    report_id="brand_equity_correlation",
    needs=REPORT_NEEDS["brand_equity_correlation"],
    blocks=(
        Block("correlation", lambda ctx, _: corr_of(ctx, EQUITY)),
        Block("section_correlations", lambda ctx, _: section_correlations(ctx, EQUITY)),
        Block("ridge", ridge, "standard"),
        Block("equity_gap", equity_gap),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Pearson r (DC, equity)", "/analysis/correlation/pearson/r", "coefficient"),
        Kpi("Equity leader", "/analysis/equity_gap/leader", "text"),
    ],
)
