"""The 25 reports of SPEC §7 as data: id, category, title, minimum data and outcomes.

The report assets, the ad-hoc job and the health rules all read minimums from here, so a
minimum is stated once.
"""

from __future__ import annotations

from dataclasses import dataclass

from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS

REPORT_CATEGORIES: tuple[str, ...] = (
    "dc_score_intelligence",
    "business_outcome",
    "predictive_intelligence",
    "executive_intelligence",
)


@dataclass(frozen=True)
class ReportSpec:
    number: int
    report_id: str
    category: str
    title: str
    min_brands: int
    min_periods: int
    # Brand-periods with both DC and the required outcome; None when the minimum is periods only.
    min_obs: int | None
    required_outcomes: tuple[str, ...]
    optional_outcomes: tuple[str, ...]

    @property
    def predictive(self) -> bool:
        # Predictive reports measure adequacy against 2m+4 periods instead of min_data_points (§7.1).
        return self.category == "predictive_intelligence"


_ALL = tuple(OUTCOME_COLUMNS)
_D, _B, _P, _E = REPORT_CATEGORIES

REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec(1, "dc_score_performance_analysis", _D, "DC Score Performance Analysis", 1, 1, None, (), ()),
    ReportSpec(2, "sectional_score_deep_dive", _D, "Sectional Score Deep Dive", 1, 1, None, (), ()),
    ReportSpec(3, "score_revenue_correlation", _D, "Score-to-Revenue Correlation", 2, 1, 5, ("revenue",), ()),
    ReportSpec(4, "market_share_impact", _D, "Market Share Impact", 2, 1, 5, ("market_share",), ()),
    ReportSpec(
        5,
        "customer_acquisition_efficiency",
        _D,
        "Customer Acquisition Efficiency",
        1,
        1,
        5,
        ("customer_acquisition_cost",),
        ("conversion_rate", "customer_lifetime_value", "marketing_spend"),
    ),
    ReportSpec(6, "brand_equity_correlation", _D, "Brand Equity Correlation", 1, 1, 5, ("brand_equity_index",), ()),
    ReportSpec(
        7, "bestseller_rank_optimization", _D, "Bestseller Rank Optimization", 1, 1, 5, ("bestseller_rank",), ()
    ),
    ReportSpec(
        8, "sales_performance_correlation", _D, "Sales Performance Correlation", 1, 1, 5, ("sales_units",), ("revenue",)
    ),
    ReportSpec(9, "revenue_impact_optimization", _B, "Revenue Impact Optimization", 1, 1, 5, ("revenue",), ()),
    ReportSpec(
        10,
        "market_position_enhancement",
        _B,
        "Market Position Enhancement",
        2,
        1,
        None,
        ("market_share",),
        ("revenue",),
    ),
    ReportSpec(
        11,
        "customer_lifetime_value_enhancement",
        _B,
        "Customer Lifetime Value Enhancement",
        1,
        1,
        5,
        ("customer_lifetime_value",),
        ("customer_acquisition_cost",),
    ),
    ReportSpec(
        12, "conversion_rate_optimization", _B, "Conversion Rate Optimization", 1, 1, 5, ("conversion_rate",), ()
    ),
    ReportSpec(
        13, "roi_maximization_strategy", _B, "ROI Maximization Strategy", 1, 2, None, ("revenue", "marketing_spend"), ()
    ),
    ReportSpec(
        14, "competitive_advantage_analysis", _B, "Competitive Advantage Analysis", 2, 1, None, (), ("revenue",)
    ),
    ReportSpec(
        15,
        "market_penetration_strategy",
        _B,
        "Market Penetration Strategy",
        1,
        2,
        None,
        ("market_share",),
        ("sales_units",),
    ),
    ReportSpec(16, "brand_portfolio_optimization", _B, "Brand Portfolio Optimization", 3, 1, None, (), ("revenue",)),
    ReportSpec(17, "performance_forecasting_analysis", _P, "Performance Forecasting", 1, 4, None, (), _ALL),
    ReportSpec(18, "trend_prediction_analysis", _P, "Trend Prediction", 1, 6, None, (), ()),
    ReportSpec(19, "risk_assessment_analysis", _P, "Risk Assessment", 1, 6, None, (), ("revenue",)),
    ReportSpec(
        20, "opportunity_identification_analysis", _P, "Opportunity Identification", 1, 1, None, (), ("revenue",)
    ),
    # Scenario planning runs from one period; a forecast baseline needs 4 (handled by the report).
    ReportSpec(21, "scenario_planning_analysis", _P, "Scenario Planning", 1, 1, None, (), ("revenue",)),
    ReportSpec(22, "growth_trajectory_modeling", _P, "Growth Trajectory Modeling", 1, 6, None, (), ("revenue",)),
    ReportSpec(23, "executive_performance_dashboard", _E, "Executive Performance Dashboard", 1, 1, None, (), _ALL),
    ReportSpec(24, "strategic_planning_insights", _E, "Strategic Planning Insights", 1, 1, None, (), ("revenue",)),
    ReportSpec(
        25,
        "investment_priority_analysis",
        _E,
        "Investment Priority Analysis",
        1,
        1,
        None,
        (),
        ("revenue", "marketing_spend"),
    ),
)

REPORTS_BY_ID: dict[str, ReportSpec] = {spec.report_id: spec for spec in REPORTS}

_S, _O, _M, _Q = "scores", "outcomes", "metrics", "dq"
_MODELS, _FC, _PLANS, _ROB, _PF = "outcome_models", "forecasts", "recommendations", "robustness", "portfolio"
_REF = "refresh"  # the rank history of the last refresh of the scores (beyond the SPEC)
# The stored inputs each report reads (ReportData fields): its builder declares these, and the report asset
# depends on the assets that store them. Stated here, with the catalog, so wiring reads it without importing the
# builders' statistics libraries.
REPORT_NEEDS: dict[str, frozenset[str]] = {
    report_id: frozenset(needs)
    for report_id, needs in {
        "dc_score_performance_analysis": (_S, _M, _Q, _ROB, _REF),
        "sectional_score_deep_dive": (_S, _Q),
        "score_revenue_correlation": (_S, _O, _Q, _MODELS),
        "market_share_impact": (_S, _O, _Q, _MODELS),
        "customer_acquisition_efficiency": (_S, _O, _Q, _MODELS),
        "brand_equity_correlation": (_S, _O, _Q),
        "bestseller_rank_optimization": (_S, _O, _M, _Q),
        "sales_performance_correlation": (_S, _O, _Q),
        "revenue_impact_optimization": (_S, _O, _Q, _MODELS, _PLANS),
        "market_position_enhancement": (_S, _O, _Q, _PLANS),
        "customer_lifetime_value_enhancement": (_S, _O, _Q, _MODELS, _PLANS),
        "conversion_rate_optimization": (_S, _O, _Q, _MODELS, _PLANS),
        "roi_maximization_strategy": (_S, _O, _Q),
        "competitive_advantage_analysis": (_S, _O, _Q),
        "market_penetration_strategy": (_S, _O, _Q, _PLANS),
        "brand_portfolio_optimization": (_S, _O, _Q, _MODELS, _PF),
        "performance_forecasting_analysis": (_S, _O, _Q, _FC),
        "trend_prediction_analysis": (_S, _Q, _FC),
        "risk_assessment_analysis": (_S, _O, _Q, _FC, _ROB),
        "opportunity_identification_analysis": (_S, _O, _M, _Q, _MODELS),
        "scenario_planning_analysis": (_S, _O, _Q, _FC, _MODELS, _PLANS),
        "growth_trajectory_modeling": (_S, _O, _Q),
        "executive_performance_dashboard": (_S, _O, _Q, _FC, _ROB),
        "strategic_planning_insights": (_S, _O, _M, _Q, _FC, _PLANS),
        "investment_priority_analysis": (_S, _O, _M, _Q, _MODELS, _PLANS, _PF),
    }.items()
}


# Inputs computed from the source rows alone (no tuned model, plan or portfolio): a report reading only these gives
# the same figures from the same data, whatever the tuning budget and whichever model stages have run.
DATA_INPUTS = frozenset({_S, _O, _M, _Q, _ROB, _REF})


def reads_only_data(report_id: str) -> bool:
    return REPORT_NEEDS[report_id] <= DATA_INPUTS


def report_spec(report_id: str) -> ReportSpec:
    try:
        return REPORTS_BY_ID[report_id]
    except KeyError:
        raise KeyError(f"unknown report_id {report_id!r}; known reports: {', '.join(REPORTS_BY_ID)}") from None


def full_analysis_need(spec: ReportSpec, min_data_points: int, seasonal_period: int) -> int:
    """n_full of the confidence adequacy term (§7.1): 2m+4 periods for predictive reports."""
    return 2 * seasonal_period + 4 if spec.predictive else min_data_points
