"""Brand forecasters (SPEC §6b): tiers by history length, Optuna-tuned candidates, backtests."""

from dc_pipeline.domain.forecasting.coherence import coherence_gap
from dc_pipeline.domain.forecasting.forecast import ForecastResult, forecast_series, tier_for
from dc_pipeline.domain.forecasting.intervals import QUANTILE_COLUMNS, QUANTILES

__all__ = ["ForecastResult", "QUANTILES", "QUANTILE_COLUMNS", "coherence_gap", "forecast_series", "tier_for"]
