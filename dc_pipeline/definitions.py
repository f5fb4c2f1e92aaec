"""Entry point: the code location's dg.Definitions, every stage merged and one set of resources bound to the
environment (SPEC §10)."""

from __future__ import annotations

import os

import dagster as dg

from dc_pipeline.defs.api import definitions as api_stage
from dc_pipeline.defs.api.resources import ENV_FIELDS, DigiCadenceApiResource
from dc_pipeline.defs.automation import automation_sensor
from dc_pipeline.defs.io_manager import PartitionedTableIOManager
from dc_pipeline.defs.jobs import ASSET_JOBS
from dc_pipeline.defs.models import definitions as models_stage
from dc_pipeline.defs.models.resources import OptunaResource
from dc_pipeline.defs.operations import definitions as operations_stage
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.portfolio import definitions as portfolio_stage
from dc_pipeline.defs.quality import definitions as quality_stage
from dc_pipeline.defs.reports import definitions as reports_stage
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource, env_value
from dc_pipeline.defs.scoring import definitions as scoring_stage
from dc_pipeline.defs.sources import definitions as sources_stage

STAGES = (
    sources_stage,
    api_stage,
    quality_stage,
    scoring_stage,
    models_stage,
    portfolio_stage,
    reports_stage,
    operations_stage,
)


def _set(**values) -> dict:
    """Only the values the environment sets: the rest keep the resource's defaults."""
    return {k: v for k, v in values.items() if v is not None}


def build_resources() -> dict:
    """Every resource, each variable read once (SPEC §10); secrets stay `dg.EnvVar`s, resolved at launch."""
    database = PostgresResource(url=env_value("DATABASE_URL", ""))
    settings = SettingsResource(config_path=env_value("DC_CONFIG_PATH", ""))
    return {
        "source_db": database,
        "pipeline_db": database,
        "settings": settings,
        "io_manager": PartitionedTableIOManager(db=database),
        "report_store": FolderResource(
            path=env_value("REPORTS_DIR", "reports"), public_url=env_value("REPORTS_URL", "")
        ),
        "model_store": FolderResource(path=env_value("MODELS_DIR", "models")),
        "dc_api": DigiCadenceApiResource(
            db=database, settings=settings, **{field: env_value(name, "") for name, field in ENV_FIELDS.items()}
        ),
        "optuna": OptunaResource(
            database=database,
            **_set(
                n_trials=env_value("OPTUNA_N_TRIALS", kind="int"),
                n_jobs=env_value("OPTUNA_N_JOBS", kind="int"),
                timeout_s=env_value("OPTUNA_TIMEOUT", kind="int"),
                sampler=env_value("OPTUNA_SAMPLER"),
                pruner=env_value("OPTUNA_PRUNER"),
                storage_url=env_value("OPTUNA_STORAGE_URL"),
            ),
        ),
        "ops": OperationsResource(
            **_set(
                backup_dir=env_value("BACKUP_DIR"),
                logs_dir=env_value("LOGS_DIR"),
                alert_webhook_url=env_value("ALERT_WEBHOOK_URL"),
                api_base_urls=env_value("API_BASE_URLS"),
                cache_timeout_s=env_value("CACHE_TIMEOUT", kind="int"),
            )
        ),
    }


def build_definitions() -> dg.Definitions:
    # Fail at load time on a bad configuration file, naming the key to fix (SPEC §10).
    SettingsResource(config_path=os.environ.get("DC_CONFIG_PATH", "")).load()
    shared = dg.Definitions(
        jobs=ASSET_JOBS,
        sensors=[automation_sensor],
        resources=build_resources(),
        executor=dg.in_process_executor,  # a process per step costs a code-location load (defs/jobs.py)
    )
    return dg.Definitions.merge(shared, *(stage.defs for stage in STAGES))


defs = build_definitions()


if __name__ == "__main__":  # `python -m dc_pipeline.definitions`: load in a fresh process and summarise
    import json

    repository = defs.get_repository_def()
    print(
        json.dumps(
            {
                "assets": len(repository.asset_graph.get_all_asset_keys()),
                "jobs": len(repository.get_all_jobs()),
                "sensors": len(repository.sensor_defs),
                "schedules": len(repository.schedule_defs),
            }
        )
    )
