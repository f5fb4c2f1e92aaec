"""report_id -> builder. Reports without a builder yet are listed in STILL_TO_COME, so a test can hold
the two together equal to the catalog."""

from __future__ import annotations

from dc_pipeline.domain.reports.builders import (
    acquisition_efficiency,
    bestseller_rank,
    brand_equity,
    dc_score_performance,
    market_share,
    sales_performance,
    score_revenue,
    sectional_deep_dive,
)
from dc_pipeline.domain.reports.framework import ReportBuilder

BUILDERS: dict[str, ReportBuilder] = {
    b.report_id: b
    for b in (
        dc_score_performance.BUILDER,
        sectional_deep_dive.BUILDER,
        score_revenue.BUILDER,
        market_share.BUILDER,
        acquisition_efficiency.BUILDER,
        brand_equity.BUILDER,
        bestseller_rank.BUILDER,
        sales_performance.BUILDER,
    )
}

STILL_TO_COME: tuple[str, ...] = (
    "revenue_impact_optimization",
    "market_position_enhancement",
    "customer_lifetime_value_enhancement",
    "conversion_rate_optimization",
    "roi_maximization_strategy",
    "competitive_advantage_analysis",
    "market_penetration_strategy",
    "brand_portfolio_optimization",
    "performance_forecasting_analysis",
    "trend_prediction_analysis",
    "risk_assessment_analysis",
    "opportunity_identification_analysis",
    "scenario_planning_analysis",
    "growth_trajectory_modeling",
    "executive_performance_dashboard",
    "strategic_planning_insights",
    "investment_priority_analysis",
)


def builder_for(report_id: str) -> ReportBuilder:
    try:
        return BUILDERS[report_id]
    except KeyError:
        raise KeyError(f"report {report_id!r} has no builder yet; built reports: {', '.join(BUILDERS)}") from None
