"""report_id -> builder. The builder modules are named here and imported when a report is built, so the wiring
can list the reports without loading their statistics libraries."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dc_pipeline.domain.reports.catalog import REPORTS_BY_ID

if TYPE_CHECKING:
    from dc_pipeline.domain.reports.framework import ReportBuilder

# report_id -> module under domain/reports/builders/ holding its BUILDER.
BUILDER_MODULES: dict[str, str] = {
    "dc_score_performance_analysis": "dc_score_performance",
    "sectional_score_deep_dive": "sectional_deep_dive",
    "score_revenue_correlation": "score_revenue",
    "market_share_impact": "market_share",
    "customer_acquisition_efficiency": "acquisition_efficiency",
    "brand_equity_correlation": "brand_equity",
    "bestseller_rank_optimization": "bestseller_rank",
    "sales_performance_correlation": "sales_performance",
    "revenue_impact_optimization": "revenue_impact",
    "market_position_enhancement": "market_position",
    "customer_lifetime_value_enhancement": "lifetime_value",
    "conversion_rate_optimization": "conversion",
    "roi_maximization_strategy": "roi",
    "competitive_advantage_analysis": "competitive_advantage",
    "market_penetration_strategy": "market_penetration",
    "brand_portfolio_optimization": "portfolio",
    "performance_forecasting_analysis": "performance_forecasting",
    "trend_prediction_analysis": "trend_prediction",
    "risk_assessment_analysis": "risk_assessment",
    "opportunity_identification_analysis": "opportunity_identification",
    "scenario_planning_analysis": "scenario_planning",
    "growth_trajectory_modeling": "growth_trajectory",
    "executive_performance_dashboard": "executive_dashboard",
    "strategic_planning_insights": "strategic_planning",
    "investment_priority_analysis": "investment_priority",
}

# Catalog reports without a builder yet.
STILL_TO_COME: tuple[str, ...] = tuple(r for r in REPORTS_BY_ID if r not in BUILDER_MODULES)


def builder_for(report_id: str) -> ReportBuilder:
    try:
        module = BUILDER_MODULES[report_id]
    except KeyError:
        raise KeyError(
            f"report {report_id!r} has no builder yet; built reports: {', '.join(BUILDER_MODULES)}"
        ) from None
    return importlib.import_module(f"dc_pipeline.domain.reports.builders.{module}").BUILDER


def all_builders() -> dict[str, ReportBuilder]:
    return {report_id: builder_for(report_id) for report_id in BUILDER_MODULES}
