"""Operations assets (SPEC §11): system_health (recorded by the sensor), weekly_ops_report
(recorded by the weekly job) and db_backup with its restore check."""

import dagster as dg

from dc_pipeline.adapters.backup_run import RESTORE_CHECK_DATABASE, run_backup
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.resources import PostgresResource, SettingsResource

OPS_GROUP = "operations"
__all__ = ["RESTORE_CHECK_DATABASE", "db_backup", "system_health", "weekly_ops_report"]

system_health = dg.AssetSpec(
    "system_health",
    group_name=OPS_GROUP,
    kinds={"python"},
    description="Health of every component, written every 5 minutes by system_health_sensor: healthy / degraded / "
    "unhealthy with the reasons (SPEC §11). Performance samples are recorded as observations.",
)

weekly_ops_report = dg.AssetSpec(
    "weekly_ops_report",
    group_name=OPS_GROUP,
    kinds={"html", "markdown"},
    description="Weekly operations summary (run durations, failures, Optuna trial counts, DQ trend), written by "
    "weekly_maintenance_job.",
)


@dg.asset(
    group_name=OPS_GROUP,
    kinds={"postgres"},
    pool="source_pg",
    check_specs=[
        dg.AssetCheckSpec(
            "backup_restorable",
            asset="db_backup",
            description="The dump restores into a scratch database with the same row count "
            "and checksum in every table.",
        )
    ],
    description="pg_dump -Fc of digi_cadence (source, pipeline and optuna schemas) plus a config tarball into "
    "BACKUP_DIR with a sha256 manifest; restore-tested; retention keeps 7 daily, 4 weekly, 6 monthly copies.",
)
def db_backup(
    context: dg.AssetExecutionContext,
    pipeline_db: PostgresResource,
    ops: OperationsResource,
    settings: SettingsResource,
):
    outcome = run_backup(
        pipeline_db.resolved_url(), ops.backups(), ops.config_folder(), settings.load(), context.run_id
    )
    result, check, problems = outcome.result, outcome.check, outcome.problems
    yield dg.Output(
        None,
        metadata={
            "dump_file": str(result.dump_path),
            "sha256": result.sha256,
            "size_bytes": result.size_bytes,
            "tables": len(result.fingerprints),
            "rows": int(result.fingerprints["rows"].sum()),
            "config_archive": str(result.config_archive) if result.config_archive else "none",
            "removed_by_retention": ", ".join(outcome.removed) or "none",
        },
    )
    yield dg.AssetCheckResult(
        check_name="backup_restorable",
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "restored_tables": check.tables if check else 0,
            "restored_rows": check.rows if check else 0,
            "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
        },
    )
