"""The report catalog (SPEC §7 table) and ReportParams validation (§7.1)."""

from __future__ import annotations

import pytest

from dc_pipeline.domain.reports.catalog import REPORT_CATEGORIES, REPORTS, full_analysis_need, report_spec
from dc_pipeline.domain.reports.params import ReportParams, parse_report_params
from dc_pipeline.domain.settings import AnalysisConfig, ConfigError
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS


def test_catalog_has_25_unique_reports_in_four_categories():
    assert [s.number for s in REPORTS] == list(range(1, 26))
    assert len({s.report_id for s in REPORTS}) == 25
    assert {s.category for s in REPORTS} == set(REPORT_CATEGORIES)
    for s in REPORTS:
        assert set(s.required_outcomes) | set(s.optional_outcomes) <= set(OUTCOME_COLUMNS)


def test_catalog_minimums_match_spec_rows():
    assert report_spec("score_revenue_correlation").min_obs == 5
    assert report_spec("score_revenue_correlation").required_outcomes == ("revenue",)
    assert report_spec("brand_portfolio_optimization").min_brands == 3
    assert report_spec("trend_prediction_analysis").min_periods == 6
    assert report_spec("roi_maximization_strategy").required_outcomes == ("revenue", "marketing_spend")
    assert full_analysis_need(report_spec("trend_prediction_analysis"), 10, 4) == 12
    assert full_analysis_need(report_spec("dc_score_performance_analysis"), 10, 4) == 10
    with pytest.raises(KeyError, match="unknown report_id"):
        report_spec("nope")


def test_defaults_and_single_or_list_format():
    p = parse_report_params({})
    assert (p.analysis_depth, p.forecast_horizon, p.confidence_level, p.include_visualizations) == (
        "standard",
        12,
        0.95,
        True,
    )
    assert p.output_format == ("json", "html", "markdown") and p.files_to_write == ("json", "html", "markdown")
    assert parse_report_params({"output_format": "markdown"}).output_format == ("markdown",)
    assert parse_report_params({"output_format": ["html", "json", "html"]}).output_format == ("html", "json")
    assert p.n_insights == 5 and ReportParams(analysis_depth="basic").max_charts == 3
    assert p.forecast_periods(3) == 4 and ReportParams(forecast_horizon=7).forecast_periods(3) == 3
    assert parse_report_params({}, AnalysisConfig(default_confidence_level=0.9)).confidence_level == 0.9
    assert ReportParams(confidence_level=0.9).alpha == pytest.approx(0.1)


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ({"analysis_depth": "deep"}, "analysis_depth"),
        ({"forecast_horizon": 0}, "forecast_horizon"),
        ({"forecast_horizon": 25}, "forecast_horizon"),
        ({"confidence_level": 0.85}, "confidence_level"),
        ({"output_format": "pdf"}, "output_format"),
        ({"output_format": []}, "at least one"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_params_raise_config_error_naming_the_key(raw, fragment):
    with pytest.raises(ConfigError, match=fragment):
        parse_report_params(raw)


def test_horizon_above_configured_max_is_rejected():
    with pytest.raises(ConfigError, match="exceeds analysis_config.max_forecast_horizon 12"):
        parse_report_params({"forecast_horizon": 18}, AnalysisConfig(max_forecast_horizon=12))
    assert parse_report_params({"forecast_horizon": 12}, AnalysisConfig(max_forecast_horizon=12)).forecast_horizon == 12
