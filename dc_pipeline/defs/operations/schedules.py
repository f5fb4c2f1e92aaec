"""Operations schedules (SPEC §11), UTC, running by default so the daemon ticks them."""

import dagster as dg

from dc_pipeline.defs.operations.jobs import backup_job, daily_maintenance_job, weekly_maintenance_job

_RUNNING = dg.DefaultScheduleStatus.RUNNING

daily_maintenance = dg.ScheduleDefinition(
    name="daily_maintenance",
    job=daily_maintenance_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    default_status=_RUNNING,
    description="Replaces daily_maintenance.py.",
)

weekly_maintenance = dg.ScheduleDefinition(
    name="weekly_maintenance",
    job=weekly_maintenance_job,
    cron_schedule="0 3 * * 0",
    execution_timezone="UTC",
    default_status=_RUNNING,
    description="Replaces weekly_maintenance.py.",
)

nightly_backup = dg.ScheduleDefinition(
    name="nightly_backup",
    job=backup_job,
    cron_schedule="0 1 * * *",
    execution_timezone="UTC",
    default_status=_RUNNING,
    description="Replaces backup_system.py: pg_dump, restore test, retention.",
)
