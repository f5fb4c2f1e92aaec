"""The operations stage's Dagster objects (assets, checks, jobs, sensors, schedules), merged by
dc_pipeline/definitions.py. Resources this stage needs are returned by extra_resources()."""

import os

import dagster as dg

from dc_pipeline.defs.operations import assets, deploy, jobs, schedules, sensors
from dc_pipeline.defs.operations.resources import DEFAULT_API_BASE_URLS, OperationsResource

defs = dg.Definitions(
    assets=[assets.system_health, assets.weekly_ops_report, assets.db_backup],
    jobs=[
        jobs.health_incident_job,
        jobs.daily_maintenance_job,
        jobs.weekly_maintenance_job,
        jobs.backup_job,
        deploy.post_deploy_validation_job,
    ],
    sensors=[
        sensors.system_health_sensor,
        sensors.performance_monitor_sensor,
        sensors.run_failure_alert_sensor,
        deploy.code_version_sensor,
    ],
    schedules=[schedules.daily_maintenance, schedules.weekly_maintenance, schedules.nightly_backup],
)


def _env(name: str, default: str):
    return dg.EnvVar(name) if os.environ.get(name) else default


def extra_resources(database) -> dict:
    """`database` is the shared PostgresResource bound as source_db and pipeline_db."""
    return {
        "ops": OperationsResource(
            backup_dir=_env("BACKUP_DIR", "backups"),
            logs_dir=_env("LOGS_DIR", "logs"),
            alert_webhook_url=_env("ALERT_WEBHOOK_URL", ""),
            api_base_urls=_env("API_BASE_URLS", DEFAULT_API_BASE_URLS),
            cache_timeout_s=dg.EnvVar.int("CACHE_TIMEOUT") if os.environ.get("CACHE_TIMEOUT") else 3600,
        )
    }
