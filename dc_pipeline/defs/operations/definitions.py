"""The operations stage (SPEC §11): health, maintenance, backups and post-deploy validation, replacing the
seed's maintenance scripts."""

import dagster as dg

from dc_pipeline.defs.operations import assets, deploy, jobs, schedules, sensors

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
