"""api_pull (SPEC §11): the hourly pull of every active project; cached bodies younger than CACHE_TIMEOUT are
reused. It runs by default where the API is configured (API_BASE_URLS set when the code location loads) and is
off otherwise: without URLs every pull would fail."""

import os

import dagster as dg

from dc_pipeline.adapters import source_reader
from dc_pipeline.defs.api.assets import API_PULL_ASSETS
from dc_pipeline.defs.api.session import FAIL_FAST_TAG
from dc_pipeline.defs.jobs import api_job
from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.domain.partition_keys import project_key


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
    default_status=dg.DefaultScheduleStatus.RUNNING
    if os.environ.get("API_BASE_URLS")
    else dg.DefaultScheduleStatus.STOPPED,
    description="Hourly API pull of every active project (SPEC §11); fresh cached bodies are reused. Running by "
    "default when API_BASE_URLS is set.",
)
def api_pull(context: dg.ScheduleEvaluationContext, source_db: PostgresResource):
    with source_db.connection() as conn:
        active = source_reader.active_project_ids(conn)
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
