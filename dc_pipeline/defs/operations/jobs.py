"""Operations jobs (SPEC §11): health incidents, daily and weekly maintenance, nightly backup."""

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from dc_pipeline.adapters import maintenance, ops_log
from dc_pipeline.adapters.report_store import write_report_files
from dc_pipeline.defs.operations.canary import run_canary
from dc_pipeline.defs.operations.performance import duration_summary
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.operations.health import UNHEALTHY
from dc_pipeline.domain.operations.weekly_report import render_weekly_report

# The ops' results go to dc_ops.maintenance_log and the step's output metadata; their outputs are
# Nothing, so no IO manager sees them (the definitions' PartitionedTableIOManager stores asset
# partitions only).
NOTHING = dg.Out(dg.Nothing)


def _now() -> datetime:
    return datetime.now(UTC)


def log_result(context: dg.OpExecutionContext, db: PostgresResource, task: str, result: dict) -> dict:
    with db.connection() as conn:
        ops_log.log_task(conn, context.job_name, task, result, context.run_id)
    shown = {k: v for k, v in result.items() if not k.endswith("_files")}
    context.log.info(f"{task}: " + json.dumps(shown, default=str))
    context.add_output_metadata({"result": dg.MetadataValue.json(json.loads(json.dumps(shown, default=str)))})
    return result


# -- incident ---------------------------------------------------------------------------------
class IncidentConfig(dg.Config):
    opened_at: str
    status: str = UNHEALTHY
    reasons: list[str] = []


@dg.op(out=NOTHING, retry_policy=dg.RetryPolicy(max_retries=3, delay=60))
def record_incident(context: dg.OpExecutionContext, config: IncidentConfig, pipeline_db: PostgresResource) -> None:
    """Writes dc_ops.incidents; retried while the database that went down comes back."""
    with pipeline_db.connection() as conn:
        ops_log.record_incident(conn, config.opened_at, config.status, config.reasons, context.run_id)


@dg.job(description="Records an unhealthy transition in dc_ops.incidents (requested by system_health_sensor).")
def health_incident_job():
    record_incident()


# -- daily ------------------------------------------------------------------------------------
@dg.op(out=NOTHING)
def assess_data_quality(context, pipeline_db: PostgresResource) -> None:
    with pipeline_db.connection() as conn:
        result, _ = maintenance.dq_summary(conn, _now(), context.run_id)
    log_result(context, pipeline_db, "dq_summary", result)


@dg.op(
    out=NOTHING,
    description="ANALYZE the source tables and the pipeline schemas (tables this role does not own are "
    "skipped with a warning).",
)
def analyze_tables(context, pipeline_db: PostgresResource) -> None:
    with pipeline_db.connection() as conn:
        result = maintenance.analyze_tables(conn)
    if result["skipped_not_owner"]:
        context.log.warning(f"ANALYZE skipped (not owner): {', '.join(result['skipped_not_owner'])}")
    log_result(context, pipeline_db, "analyze", result)


@dg.op(out=NOTHING)
def prune_api_cache(context, pipeline_db: PostgresResource, ops: OperationsResource) -> None:
    with pipeline_db.connection() as conn:
        result = maintenance.prune_api_cache(conn, ops.cache_timeout_s)
    log_result(context, pipeline_db, "api_cache", result)


@dg.op(out=NOTHING)
def prune_logs(context, pipeline_db: PostgresResource, ops: OperationsResource, settings: SettingsResource) -> None:
    days = settings.load().maintenance_config.log_retention_days
    log_result(context, pipeline_db, "logs", maintenance.prune_logs(ops.logs(), _now(), days))


@dg.op(out=NOTHING)
def prune_reports(
    context, pipeline_db: PostgresResource, report_store: FolderResource, settings: SettingsResource
) -> None:
    days = settings.load().maintenance_config.report_retention_days
    log_result(context, pipeline_db, "reports", maintenance.prune_reports(report_store.root(), _now(), days))


@dg.job(
    description="Daily maintenance (replaces daily_maintenance.py): portfolio DQ assessment, ANALYZE, expired "
    "API cache rows, logs and report files past retention.",
    tags={"dagster/max_retries": "0"},
)
def daily_maintenance_job():
    assess_data_quality()
    analyze_tables()
    prune_api_cache()
    prune_logs()
    prune_reports()


# -- weekly -----------------------------------------------------------------------------------
@dg.op(out=NOTHING)
def end_to_end_test(context, pipeline_db: PostgresResource, settings: SettingsResource) -> None:
    """The reference report on the TechCorp fixture, built and verified against SPEC §4."""
    with pipeline_db.connection() as conn:
        canary = run_canary(conn, settings.load(), depth="standard")
    result = {
        "status": canary.status,
        "seconds": canary.seconds,
        "problems": canary.problems,
        "brands_checked": canary.brands_checked,
    }
    log_result(context, pipeline_db, "end_to_end_test", result)
    if canary.status != "ok":
        raise dg.Failure(
            description=f"weekly system test {canary.status}: " + "; ".join(canary.problems),
            metadata={"problems": dg.MetadataValue.md("\n".join(canary.problems))},
        )


@dg.op(ins={"after": dg.In(dg.Nothing)}, out=NOTHING)
def prune_optuna(context, pipeline_db: PostgresResource, settings: SettingsResource) -> None:
    days = settings.load().maintenance_config.optuna_retention_days
    with pipeline_db.connection() as conn:
        storage_url = maintenance.optuna_storage_url(pipeline_db.resolved_url())
        result = maintenance.prune_optuna(conn, storage_url, _now(), days)
    log_result(context, pipeline_db, "optuna_cleanup", result)


@dg.op(ins={"after": dg.In(dg.Nothing)}, out=NOTHING)
def performance_summary(context, pipeline_db: PostgresResource, report_store: FolderResource):
    """weekly_ops_report: run durations and failures of the week, slowest steps, Optuna trials, DQ trend."""
    now = _now()
    jobs, steps = duration_summary(context.instance, now, hours=24 * 7)
    with pipeline_db.connection() as conn:
        trials, dq = ops_log.trial_counts(conn), ops_log.dq_trend(conn, (now - timedelta(days=7)).date())
    pages, facts = render_weekly_report(now, jobs, steps, trials, dq)
    paths = write_report_files(report_store.root(), "ops", "weekly_ops_report", pages, now)
    log_result(context, pipeline_db, "performance_summary", facts)
    yield dg.AssetMaterialization(
        asset_key="weekly_ops_report",
        metadata={
            **{k: v for k, v in facts.items() if isinstance(v, (int, float, str))},
            "html": paths["html"],
            "markdown": paths["md"],
        },
    )
    yield dg.Output(None)


@dg.job(
    description="Weekly maintenance (replaces weekly_maintenance.py): ANALYZE, end-to-end report test, Optuna "
    "cleanup, weekly_ops_report.",
    tags={"dagster/max_retries": "0"},
)
def weekly_maintenance_job():
    # The canary stands alone: a failed system test must not suppress the cleanup or the summary.
    # The summary comes after the cleanup so its trial counts are the ones that remain.
    end_to_end_test()
    performance_summary(after=prune_optuna(after=analyze_tables()))


backup_job = dg.define_asset_job(
    "backup_job",
    selection=dg.AssetSelection.assets("db_backup"),
    description="Nightly backup with restore test (replaces backup_system.py).",
)
