"""The models stage's assets (SPEC §0): per project outcome_models and index_robustness, per
(project, brand) brand_forecasts and brand_recommendations."""

from dc_pipeline.defs.models.forecast_assets import brand_forecasts
from dc_pipeline.defs.models.outcome_assets import outcome_models
from dc_pipeline.defs.models.recommendation_assets import brand_recommendations
from dc_pipeline.defs.models.robustness_assets import index_robustness

PROJECT_ASSETS = [outcome_models, index_robustness]
PAIR_ASSETS = [brand_forecasts, brand_recommendations]
ALL_ASSETS = [*PROJECT_ASSETS, *PAIR_ASSETS]
