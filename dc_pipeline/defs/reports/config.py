"""Run config of the report assets and the ad-hoc job (SPEC §7.1 customization parameters).

`ReportParams` (domain/reports/params.py) is the one definition of the parameters, their defaults and their
validation; these Dagster Config classes carry the same fields with its defaults, and `report_params` validates
through it."""

import dagster as dg

from dc_pipeline.domain.reports.params import ReportParams, parse_report_params
from dc_pipeline.domain.settings import SystemConfig

_DEFAULTS = {name: field.default for name, field in ReportParams.model_fields.items()}


class ReportConfig(dg.Config):
    """analysis_depth basic|standard|detailed; forecast_horizon in months; confidence_level 0.8|0.9|0.95|0.99
    (default: analysis_config.default_confidence_level); include_visualizations; output_format json|html|markdown."""

    analysis_depth: str = _DEFAULTS["analysis_depth"]
    forecast_horizon: int = _DEFAULTS["forecast_horizon"]
    confidence_level: float | None = None
    include_visualizations: bool = _DEFAULTS["include_visualizations"]
    output_format: list[str] = list(_DEFAULTS["output_format"])


class AdhocReportConfig(ReportConfig):
    """Any subset of reports over `project_ids` (default every project with a partition) and `brand_ids`
    (default every member brand), with the parameters above."""

    report_ids: list[str] = []
    project_ids: list[int] = []
    brand_ids: list[int] | None = None


def report_params(config: ReportConfig, system: SystemConfig) -> ReportParams:
    raw = {k: getattr(config, k) for k in ReportConfig.model_fields if getattr(config, k) is not None}
    if isinstance(config, AdhocReportConfig) and config.brand_ids:
        raw["brand_ids"] = tuple(config.brand_ids)
    return parse_report_params(raw, system.analysis_config)
