"""Stored model outputs built by hand for report tests: Pareto plans per brand (brand_recommendation_plans and
_summaries) and outcome model result rows, with numbers chosen so the expected report figures are known."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.domain.portfolio.project import portfolio_tables


def plans_frame(project_id: int, period, fronts: dict[int, list[tuple[float, float]]], knee: int = 1) -> pd.DataFrame:
    """fronts: brand_id -> [(delta_dc, effort), ...] by effort; plan `knee` (index) is the knee."""
    rows = [
        {
            "project_id": project_id,
            "brand_id": b,
            "period": pd.Timestamp(period),
            "plan_id": i,
            "is_knee": i == knee,
            "reaches_targets": [],
            "delta_dc": g,
            "effort": e,
            "n_metrics_changed": 2,
            "outcome_change": None,
            "metrics": [],
        }
        for b, front in fronts.items()
        for i, (g, e) in enumerate(front)
    ]
    return pd.DataFrame(rows)


def recommendations(project_id: int, period, fronts) -> dict[str, pd.DataFrame]:
    plans = plans_frame(project_id, period, fronts)
    summaries = pd.DataFrame(
        {
            "project_id": project_id,
            "brand_id": list(fronts),
            "status": "ok",
            "reason": None,
            "max_delta_dc": [max(g for g, _ in f) for f in fronts.values()],
        }
    )
    return {"brand_recommendation_plans": plans, "brand_recommendation_summaries": summaries}


def model_row(project_id: int, target: str, estimate: float, low: float, high: float, validated: bool = True) -> dict:
    return {
        "project_id": project_id,
        "target": target,
        "status": "ok",
        "reason": None,
        "n_obs": 60.0,
        "candidate": "ridge",
        "feature_set": "dc",
        "skill": 0.4,
        "rmse": 1.0,
        "r2": 0.8,
        "validated": validated,
        "validation_reason": None if validated else "skill <= 0",
        "effect_estimate": estimate,
        "effect_ci_low": low,
        "effect_ci_high": high,
        "effect_level": 0.95,
        "model_id": f"m-{target}",
    }


def with_portfolio(data, recs: dict[str, pd.DataFrame], models: pd.DataFrame | None = None, alpha: float = 0.05):
    """`data` with the stored plans, model rows and the portfolio tables computed from them."""
    from dataclasses import replace

    from dc_pipeline.domain.panels import outcome_effect

    members = data.brands.assign(project_id=data.project_id)
    tables = portfolio_tables(
        data.project_id,
        scores=data.scores,
        members=members,
        grain=data.grain,
        outcomes=data.outcomes,
        plans=recs["brand_recommendation_plans"],
        summaries=recs["brand_recommendation_summaries"],
        alpha=alpha,
        revenue_effect=None if models is None else outcome_effect(models, "revenue"),
    )
    return replace(data, recommendations=recs, outcome_models=models, portfolio=tables)
