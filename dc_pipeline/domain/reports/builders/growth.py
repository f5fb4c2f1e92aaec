"""Growth of an outcome between consecutive periods, per brand and for the portfolio total (reports 9, 15, 16)."""

from __future__ import annotations

from typing import Any

from dc_pipeline.domain.reports.blocks.status import ok_block
from dc_pipeline.domain.reports.builders.common import f, missing_outcomes
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.json_values import iso_date


def period_growth(ctx: ReportContext, column: str) -> dict[str, Any]:
    """Per brand and for the portfolio total: growth % between consecutive periods (a gap breaks the chain)."""
    obs = ctx.observations(column).sort_values(["brand_id", "t"])
    if obs.empty:
        return missing_outcomes(ctx, column)
    brands = {}
    for b, g in obs.groupby("brand_id", sort=True):
        step = g["t"].diff() == 1
        growth = (g[column].pct_change() * 100).where(step)
        brands[str(b)] = {
            "brand_name": ctx.name(b),
            "series": [
                {"period": iso_date(p), "value": float(v), "growth_pct": f(x)}
                for p, v, x in zip(g["period"], g[column], growth)
            ],
            "latest_growth_pct": f(growth.iloc[-1]),
            "mean_growth_pct": f(growth.mean()),
            "n_growth_periods": int(growth.notna().sum()),
        }
    # The portfolio total only over periods where every brand of the latest period reports.
    wide = obs.pivot_table(index="period", columns="brand_id", values=column, aggfunc="first").dropna()
    total = wide.sum(axis=1)
    growth = total.pct_change() * 100
    return ok_block(
        outcome=column,
        brands=brands,
        portfolio={
            "n_brands": int(wide.shape[1]),
            "series": [
                {"period": iso_date(p), "total": float(v), "growth_pct": f(x)}
                for p, v, x in zip(total.index, total, growth)
            ],
            "latest_growth_pct": f(growth.iloc[-1]) if len(growth) else None,
        },
    )
