"""The models stage's Dagster objects (assets, jobs), merged by dc_pipeline/definitions.py.
Resources this stage needs are returned by extra_resources()."""

import dagster as dg

from dc_pipeline.defs.models.assets import ALL_ASSETS
from dc_pipeline.defs.models.jobs import brand_models_job, models_job
from dc_pipeline.defs.models.resources import build_model_store, build_optuna_resource

defs = dg.Definitions(assets=ALL_ASSETS, jobs=[models_job, brand_models_job])


def extra_resources(database) -> dict:
    """`database` is the shared PostgresResource bound as source_db and pipeline_db."""
    return {"optuna": build_optuna_resource(database), "model_store": build_model_store()}
