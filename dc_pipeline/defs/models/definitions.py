"""The models stage: per project outcome_models and index_robustness, per (project, brand) brand_forecasts and
brand_recommendations (SPEC §0, §6, §9)."""

import dagster as dg

from dc_pipeline.defs.models.forecast_assets import brand_forecasts
from dc_pipeline.defs.models.outcome_assets import outcome_models
from dc_pipeline.defs.models.recommendation_assets import brand_recommendations
from dc_pipeline.defs.models.robustness_assets import index_robustness

defs = dg.Definitions(assets=[outcome_models, index_robustness, brand_forecasts, brand_recommendations])
