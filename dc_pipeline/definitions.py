"""Entry point: builds dg.Definitions from defs/ and binds resources to the environment."""

from __future__ import annotations

import os

import dagster as dg

from dc_pipeline.defs import jobs
from dc_pipeline.defs.io_manager import PartitionedTableIOManager
from dc_pipeline.defs.models import definitions as models_stage
from dc_pipeline.defs.operations import definitions as operations_stage
from dc_pipeline.defs.quality import assets as quality_assets
from dc_pipeline.defs.reports import assets as report_assets
from dc_pipeline.defs.resources import PostgresResource, ReportStoreResource, SettingsResource
from dc_pipeline.defs.scoring import assets as scoring_assets
from dc_pipeline.defs.sources import api_definitions as api_stage
from dc_pipeline.defs.sources import assets as source_assets
from dc_pipeline.defs.sources import sensors as source_sensors


def _env_or_default(name: str, default: str = ""):
    """EnvVar when set (resolved at launch, hidden in the UI), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def build_resources() -> dict:
    database = PostgresResource(url=_env_or_default("DATABASE_URL"))
    stage_resources = {
        **api_stage.extra_resources(database),
        **models_stage.extra_resources(database),
        **operations_stage.extra_resources(database),
    }
    return {
        **stage_resources,
        "source_db": database,
        "pipeline_db": database,
        "io_manager": PartitionedTableIOManager(db=database),
        "settings": SettingsResource(config_path=_env_or_default("DC_CONFIG_PATH")),
        "report_store": ReportStoreResource(reports_dir=_env_or_default("REPORTS_DIR", "reports")),
    }


def build_definitions() -> dg.Definitions:
    # Fail at load time on a bad configuration file, naming the key to fix (SPEC §10).
    SettingsResource(config_path=os.environ.get("DC_CONFIG_PATH", "")).load()
    core = dg.Definitions(
        assets=dg.load_assets_from_modules([source_assets, quality_assets, scoring_assets, report_assets]),
        jobs=[jobs.reference_job, jobs.ingest_job, jobs.scoring_job],
        sensors=[source_sensors.source_change_sensor],
        resources=build_resources(),
        executor=dg.multiprocess_executor.configured({"max_concurrent": 4}),
    )
    return dg.Definitions.merge(core, api_stage.defs, models_stage.defs, operations_stage.defs)


defs = build_definitions()
