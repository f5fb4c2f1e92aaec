"""`portfolio_analysis` of one project (SPEC §8): the tables it stores, computed from the stored DC scores
over the project's time line, the member brands' stored plans and the latest revenue. Nothing is refitted:
plans come from brand_recommendations as stored."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.domain.json_values import json_columns
from dc_pipeline.domain.panels import score_panel
from dc_pipeline.domain.portfolio.allocation import effort_allocation
from dc_pipeline.domain.portfolio.comparison import cross_brand_comparison, pairwise_dc_tests
from dc_pipeline.domain.portfolio.synergy import complementarity, synergy, transfer_pairs
from dc_pipeline.domain.reports.blocks.trend import period_numbers
from dc_pipeline.domain.scoring import DcScores

MONTHS_PER_PERIOD = {"month": 1, "quarter": 3}


def own_latest_period(scores: DcScores, project_id: int) -> pd.Timestamp | None:
    own = scores.brands[(scores.brands["project_id"] == project_id) & scores.brands["dc_score"].notna()]
    return None if own.empty else pd.Timestamp(own["period"].max())


def latest_revenue(outcomes: pd.DataFrame | None, project_id: int, period) -> pd.Series:
    """Revenue by brand_id in the project's own rows of `period` (empty when not reported)."""
    if outcomes is None or outcomes.empty or "revenue" not in outcomes or period is None:
        return pd.Series(dtype=float)
    rows = outcomes[(outcomes["project_id"] == project_id) & (pd.to_datetime(outcomes["period"]) == period)]
    return pd.to_numeric(rows.set_index("brand_id")["revenue"], errors="coerce").dropna()


def revenue_change(summary: dict, allocation: pd.DataFrame, effect: dict | None) -> dict:
    """Revenue change of the allocation, Σ ΔDC_b × revenue per DC point with the model's CI, when the stored
    revenue model is validated; otherwise the reason it is not stated."""
    if summary.get("status") != "ok":
        return {"revenue_change_reason": summary.get("reason")}
    if effect is None:
        return {"revenue_change_reason": "no fitted revenue model stored for the project"}
    if not effect["validated"]:
        return {"revenue_change_reason": "the stored revenue model is not validated"}
    gain = float(allocation["delta_dc"].fillna(0.0).sum())
    low, high = sorted((gain * effect["ci_low"], gain * effect["ci_high"]))
    return {"revenue_per_dc_point": effect["estimate"], "revenue_change": gain * effect["estimate"],
            "revenue_change_ci_low": low, "revenue_change_ci_high": high, "revenue_change_level": effect["level"],
            "revenue_model_id": effect["model_id"], "revenue_change_reason": None}  # fmt: skip


def portfolio_tables(
    project_id: int,
    *,
    scores: DcScores,
    members: pd.DataFrame,
    grain: str,
    outcomes: pd.DataFrame | None,
    plans: pd.DataFrame | None,
    summaries: pd.DataFrame | None,
    alpha: float,
    effort_budget: float | None = None,
    revenue_effect: dict | None = None,
) -> dict[str, pd.DataFrame]:
    """The PORTFOLIO_TABLES of one project; `scores` covers its member brands over its time line and
    `members` its project_brands rows (brand_id, role, weight). `revenue_effect`: the stored revenue model's
    outcome per DC point (panels.outcome_effect); the allocation's revenue change is stated only when that
    model is validated."""
    member_ids = set(members["brand_id"].astype(int))
    panel = score_panel(scores, project_id)
    panel = panel[panel["brand_id"].isin(member_ids) & panel["dc"].notna()].reset_index(drop=True)
    latest = own_latest_period(scores, project_id)
    if latest is not None:
        panel = panel[panel["period"] <= latest].reset_index(drop=True)
    panel["t"] = period_numbers(panel["period"], MONTHS_PER_PERIOD.get(grain, 1)) if len(panel) else []
    latest_rows = panel[panel["period"] == latest] if latest is not None else panel.iloc[0:0]
    allocation, summary = effort_allocation(
        members, latest_revenue(outcomes, project_id, latest), plans, summaries, effort_budget
    )
    tables = {
        "portfolio_comparison": cross_brand_comparison(panel),
        "portfolio_pairwise_tests": pairwise_dc_tests(panel, alpha),
        "portfolio_synergy": synergy(panel, alpha),
        "portfolio_complementarity": json_columns(
            complementarity(latest_rows), ["strengths_a", "weaknesses_a", "strengths_b", "weaknesses_b"], []
        ),
        "portfolio_transfers": transfer_pairs(latest_rows),
        "portfolio_allocation": json_columns(allocation, ["envelope"], []),
        "portfolio_allocation_summary": pd.DataFrame(
            [{"period": latest, "alpha": alpha, **summary, **revenue_change(summary, allocation, revenue_effect)}]
        ),
    }
    return {name: frame.assign(project_id=project_id) for name, frame in tables.items()}
