"""The API-sourced assets's Dagster objects (assets, checks, jobs, sensors, schedules), merged by
dc_pipeline/definitions.py. Resources this stage needs are returned by extra_resources()."""

import os

import dagster as dg

from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.defs.sources.api_assets import API_GROUP, API_PULL_ASSETS, FAIL_FAST_TAG
from dc_pipeline.defs.sources.api_reconciliation import api_reconciliation
from dc_pipeline.defs.sources.api_resource import api_resource_from_env
from dc_pipeline.domain.partition_keys import project_key

API_JOB_NAME = "api_job"

api_job = dg.define_asset_job(
    API_JOB_NAME,
    # The SQL pulls it compares with come along: API names resolve to metric ids through src_metrics,
    # and the reconciliation needs the current Postgres values of the same partition.
    selection=dg.AssetSelection.groups(API_GROUP) | dg.AssetSelection.assets("src_metrics", "src_normalised_values"),
    partitions_def=projects_partitions,
    description="Pull the Digi-Cadence API for the selected project and reconcile it with Postgres. "
    "Not part of ingest_job: an API outage never stops scoring and reports.",
)


def api_run_config(force_refresh: bool = False) -> dict:
    """Run config giving every API pull the same `IngestConfig(force_refresh)`."""
    return {"ops": {a.key.path[-1]: {"config": {"force_refresh": force_refresh}} for a in API_PULL_ASSETS}}


def fail_fast_tags() -> dict:
    """Tags for a run that should fail on an outage without the 60 s / 120 s step retries."""
    return {FAIL_FAST_TAG: "true"}


@dg.schedule(
    job=api_job,
    cron_schedule="0 * * * *",
    execution_timezone="UTC",
    description="Hourly API pull of every active project (SPEC §11); fresh cached bodies are reused.",
)
def api_pull(context: dg.ScheduleEvaluationContext, source_db: PostgresResource):
    with source_db.connection() as conn:
        active = [
            r[0]
            for r in conn.execute(
                "SELECT project_id FROM public.projects WHERE status = 'active' ORDER BY 1"
            ).fetchall()
        ]
    known = set(context.instance.get_dynamic_partitions(projects_partitions.name))
    keys = [project_key(p) for p in active if project_key(p) in known]
    if not keys:
        return dg.SkipReason(
            f"no active project with a partition ({len(active)} active in public.projects, "
            f"{len(known)} project partitions)"
        )
    tick = context.scheduled_execution_time.strftime("%Y-%m-%dT%H:%M") if context.scheduled_execution_time else "now"
    # One run per project and tick: the run key dedupes re-evaluations of the same tick.
    return [
        dg.RunRequest(partition_key=key, run_key=f"api_pull:{key}:{tick}", tags={"dc/trigger": "api_pull"})
        for key in keys
    ]


defs = dg.Definitions(assets=[*API_PULL_ASSETS, api_reconciliation], jobs=[api_job], schedules=[api_pull])


def extra_resources(database) -> dict:
    """`database` is the shared PostgresResource bound as source_db and pipeline_db."""
    config_path = dg.EnvVar("DC_CONFIG_PATH") if os.environ.get("DC_CONFIG_PATH") else ""
    return {"dc_api": api_resource_from_env(database, SettingsResource(config_path=config_path))}
