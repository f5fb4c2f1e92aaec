"""Jobs of the models stage: project-level models, then the (project, brand) models that read them."""

import dagster as dg

models_job = dg.define_asset_job(
    "models_job", selection=dg.AssetSelection.assets("outcome_models", "index_robustness"),
    description="Tune the score->outcome models and compute index robustness for the selected projects.")

brand_models_job = dg.define_asset_job(
    "brand_models_job", selection=dg.AssetSelection.assets("brand_forecasts", "brand_recommendations"),
    description="Forecasts and GA recommendations for the selected (project, brand) pairs; untracked pairs "
    "succeed at once with no rows.")
