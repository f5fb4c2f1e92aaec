"""Report customization parameters (SPEC §7.1 `ReportConfig`), validated with pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from dc_pipeline.domain.settings import AnalysisConfig, ConfigError

OutputFormat = Literal["json", "html", "markdown"]
Depth = Literal["basic", "standard", "detailed"]

INSIGHTS_BY_DEPTH: dict[str, int] = {"basic": 3, "standard": 5, "detailed": 10}
# Only basic caps the chart count (§7.1); None means no cap.
MAX_CHARTS_BY_DEPTH: dict[str, int | None] = {"basic": 3, "standard": None, "detailed": None}


class ReportParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    analysis_depth: Depth = "standard"
    forecast_horizon: int = Field(12, ge=1, le=24, description="months")
    confidence_level: Literal[0.80, 0.90, 0.95, 0.99] = 0.95
    include_visualizations: bool = True
    output_format: tuple[OutputFormat, ...] = ("json", "html", "markdown")
    project_ids: tuple[int, ...] | None = None
    brand_ids: tuple[int, ...] | None = None

    @field_validator("output_format", mode="before")
    @classmethod
    def _one_or_many_formats(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return value

    @field_validator("output_format")
    @classmethod
    def _non_empty_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("output_format must name at least one of json, html, markdown")
        return tuple(dict.fromkeys(value))

    @field_validator("forecast_horizon")
    @classmethod
    def _within_configured_max(cls, value: int, info: ValidationInfo) -> int:
        limit = (info.context or {}).get("max_forecast_horizon")
        if limit is not None and value > limit:
            raise ValueError(f"forecast_horizon {value} exceeds analysis_config.max_forecast_horizon {limit}")
        return value

    @property
    def alpha(self) -> float:
        return round(1.0 - self.confidence_level, 10)

    @property
    def n_insights(self) -> int:
        return INSIGHTS_BY_DEPTH[self.analysis_depth]

    @property
    def max_charts(self) -> int | None:
        return MAX_CHARTS_BY_DEPTH[self.analysis_depth]

    @property
    def files_to_write(self) -> tuple[str, ...]:
        """JSON is always written (§7.1); the requested formats follow."""
        return tuple(dict.fromkeys(("json", *self.output_format)))

    def forecast_periods(self, months_per_period: int) -> int:
        """Horizon in periods: ceil(h / months_per_period) (§7.1)."""
        return -(-self.forecast_horizon // months_per_period)


def parse_report_params(raw: dict[str, Any] | None, analysis: AnalysisConfig | None = None) -> ReportParams:
    """Validate run config against the analysis config; raise ConfigError naming each bad key."""
    analysis = analysis or AnalysisConfig()
    data = dict(raw or {})
    data.setdefault("confidence_level", analysis.default_confidence_level)
    try:
        return ReportParams.model_validate(data, context={"max_forecast_horizon": analysis.max_forecast_horizon})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'ReportConfig'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(
            f"invalid report parameters: {problems}. Allowed: analysis_depth basic|standard|detailed, "
            "forecast_horizon 1..max_forecast_horizon months, confidence_level 0.8|0.9|0.95|0.99, "
            "include_visualizations true|false, output_format json|html|markdown or a list of them."
        ) from None
