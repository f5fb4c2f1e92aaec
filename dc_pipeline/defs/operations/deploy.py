"""Post-deploy validation (SPEC §11, replaces update_system.py): code_version_sensor notices that
the loaded code differs from the version it last recorded and requests post_deploy_validation_job,
which makes sure a verified backup < 24 h old exists (taking one if not), loads the definitions and
runs the canary report. Building the image and `dagster instance migrate` stay outside Dagster."""

import json
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg

from dc_pipeline.adapters.alerts import redact
from dc_pipeline.adapters.backup_run import backup_is_recent, run_backup
from dc_pipeline.adapters.ops_log import last_validated_version, last_verified_backup
from dc_pipeline.defs.operations.canary import run_canary
from dc_pipeline.defs.operations.jobs import NOTHING, log_result
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.plan_gate import plan_in_progress
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.version import code_version

POST_DEPLOY_JOB = "post_deploy_validation_job"
BACKUP_MAX_AGE_HOURS = 24.0


class PostDeployConfig(dg.Config):
    code_version: str
    previous_version: str = ""


@dg.op(
    out=NOTHING, description="A verified backup younger than 24 h, taking one (the db_backup logic) when there is none."
)
def ensure_recent_backup(
    context: dg.OpExecutionContext,
    config: PostDeployConfig,
    pipeline_db: PostgresResource,
    ops: OperationsResource,
    settings: SettingsResource,
) -> None:
    now = datetime.now(UTC)
    with pipeline_db.connection() as conn:
        last, dump_file = last_verified_backup(conn)
    if backup_is_recent(last, now, BACKUP_MAX_AGE_HOURS):
        result = {
            "action": "reused",
            "dump_file": dump_file,
            "created_at": last.isoformat(),
            "age_hours": round((now - last).total_seconds() / 3600, 2),
            "code_version": config.code_version,
        }
        log_result(context, pipeline_db, "ensure_backup", result)
        return
    outcome = run_backup(
        pipeline_db.resolved_url(), ops.backups(), ops.config_folder(), settings.load(), context.run_id
    )
    result = {
        "action": "created",
        "dump_file": outcome.result.dump_path.name,
        "verified": outcome.verified,
        "created_at": outcome.result.created_at.isoformat(),
        "problems": outcome.problems,
        "previous_verified": last.isoformat() if last else None,
        "code_version": config.code_version,
    }
    log_result(context, pipeline_db, "ensure_backup", result)
    if not outcome.verified:
        raise dg.Failure(description="no verified backup before the deploy: " + "; ".join(outcome.problems))


@dg.op(
    ins={"after_backup": dg.In(dg.Nothing)},
    out=NOTHING,
    description="Loads the definitions the way a code server does, so a broken deploy fails here.",
)
def load_definitions(context: dg.OpExecutionContext, config: PostDeployConfig, pipeline_db: PostgresResource) -> None:
    # A fresh process, as a code server loads the location: a broken deploy fails here, and this module never
    # imports the entry point that imports it.
    done = subprocess.run(
        [sys.executable, "-m", "dc_pipeline.definitions"], capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        last_lines = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise dg.Failure(
            description="the definitions do not load in a fresh process",
            metadata={"stderr": dg.MetadataValue.md(f"```\n{redact(last_lines)}\n```")},
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log_result(context, pipeline_db, "load_definitions", {**result, "code_version": config.code_version})


@dg.op(
    ins={"after_load": dg.In(dg.Nothing)},
    out=NOTHING,
    description="The canary report on the TechCorp fixture, checked against SPEC §4.",
)
def post_deploy_canary(
    context: dg.OpExecutionContext, config: PostDeployConfig, pipeline_db: PostgresResource, settings: SettingsResource
) -> None:
    with pipeline_db.connection() as conn:
        canary = run_canary(conn, settings.load(), depth="standard")
    result = {
        "status": canary.status,
        "seconds": canary.seconds,
        "problems": canary.problems,
        "brands_checked": canary.brands_checked,
        "code_version": config.code_version,
        "previous_version": config.previous_version or None,
    }
    log_result(context, pipeline_db, "canary", result)
    if canary.status != "ok":
        raise dg.Failure(
            description=f"post-deploy canary {canary.status}: " + "; ".join(canary.problems),
            metadata={"problems": dg.MetadataValue.md("\n".join(canary.problems))},
        )


@dg.job(
    name=POST_DEPLOY_JOB,
    tags={"dagster/max_retries": "0"},
    description="After a new code version: verified backup < 24 h old, definitions load, canary report.",
)
def post_deploy_validation_job():
    post_deploy_canary(load_definitions(ensure_recent_backup()))


def _run_config(version: str, previous: str | None) -> dict:
    config = {"config": {"code_version": version, "previous_version": previous or ""}}
    return {"ops": {op: config for op in ("ensure_recent_backup", "load_definitions", "post_deploy_canary")}}


@dg.sensor(
    job=post_deploy_validation_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests post_deploy_validation_job once per new code version (the cursor holds the "
    "last one seen; without one, the version whose canary last passed in dc_ops; a run key per version guards "
    "against a lost cursor).",
)
def code_version_sensor(context: dg.SensorEvaluationContext, pipeline_db: PostgresResource) -> dg.SensorResult:
    if waiting := plan_in_progress():  # the demo validates the version itself when its plan is done
        return dg.SensorResult(skip_reason=dg.SkipReason(waiting))
    version = code_version()
    previous = context.cursor or None
    if previous is None:  # a new instance: the version a post-deploy run or `dc-pipeline demo` last validated
        with pipeline_db.connection() as conn:
            previous = last_validated_version(conn)
    if version == previous:
        return dg.SensorResult(skip_reason=dg.SkipReason(f"code version {version} already validated"), cursor=version)
    context.log.info(f"code version {previous or '(none recorded)'} -> {version}: validating the deploy")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"deploy:{version}",
                run_config=_run_config(version, previous),
                tags={"dc/code_version": version},
            )
        ],
        cursor=version,
    )
