"""Runs the pipeline on a real Dagster instance: used by `dc-pipeline demo` and by tests.

The instance stores runs, events and schedules in the `dagster` database (dagster-postgres),
on the same server as `digi_cadence`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.database_location import resolve_dagster_url

POOLS = {"source_pg": 2, "http_api": 2, "optuna": 2}

# In-process runs print only warnings; the full event log is in the instance (and the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def prepare_instance(home: Path, source_url: str) -> dg.DagsterInstance:
    """DAGSTER_HOME with the project's dagster.yaml, storage in the `dagster` database."""
    home.mkdir(parents=True, exist_ok=True)
    template = resources.files("dc_pipeline.config").joinpath("dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(template)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["DAGSTER_PG_URL"] = resolve_dagster_url(source_url)
    instance = dg.DagsterInstance.get()
    for pool, limit in POOLS.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
    return instance


@dataclass
class RunSummary:
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _job(defs: dg.Definitions, name: str) -> dg.JobDefinition:
    return defs.resolve_job_def(name)


def run_reference(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    result = _job(defs, "reference_job").execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False)
    if not result.success:
        raise RuntimeError(f"reference_job failed: {_failure_text(result)}")


def project_keys(instance: dg.DagsterInstance) -> list[str]:
    return list(instance.get_dynamic_partitions("projects"))


def run_projects(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: list[str],
    job_name: str = "ingest_job",
    batch_size: int = 1,
    run_config: dict | None = None,
) -> RunSummary:
    """Runs over project partitions. batch_size 1: one run per project, so a blocking failure stops
    only its own project. Larger: one run per consecutive slice of keys (a partition range), as a
    backfill with BackfillPolicy.multi_run does; `keys` must be in the partition order."""
    summary = RunSummary()
    job = _job(defs, job_name)
    config = {**QUIET, **(run_config or {})}
    for start in range(0, len(keys), max(1, batch_size)):
        chunk = keys[start : start + max(1, batch_size)]
        if len(chunk) == 1:
            result = job.execute_in_process(
                instance=instance, partition_key=chunk[0], run_config=config, raise_on_error=False
            )
        else:
            tags = {ASSET_PARTITION_RANGE_START_TAG: chunk[0], ASSET_PARTITION_RANGE_END_TAG: chunk[-1]}
            result = job.execute_in_process(instance=instance, tags=tags, run_config=config, raise_on_error=False)
        if result.success:
            summary.succeeded.extend(chunk)
        else:
            summary.failed.update({k: _failure_text(result) for k in chunk})
    return summary


def run_api_projects(
    defs: dg.Definitions, instance: dg.DagsterInstance, keys: list[str], force_refresh: bool = False
) -> RunSummary:
    """The API pulls and their reconciliation, one `api_job` run per project. Runs fail fast on an
    outage (no 60 s step retries): this is the interactive path of `dc-pipeline demo`."""
    from dc_pipeline.defs.api.schedules import api_run_config, fail_fast_tags

    summary = RunSummary()
    job = _job(defs, "api_job")
    for key in keys:
        result = job.execute_in_process(
            instance=instance,
            partition_key=key,
            raise_on_error=False,
            run_config={**QUIET, **api_run_config(force_refresh)},
            tags=fail_fast_tags(),
        )
        if result.success:
            summary.succeeded.append(key)
        else:
            summary.failed[key] = _failure_text(result)
    return summary


def run_pairs_by_project(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    members: dict[str, list[str]],
    job_name: str = "brand_models_job",
) -> RunSummary:
    """One run per project over its member brands' pair partitions (a range along the brand
    dimension; brands in between that are not members succeed as `not tracked`)."""
    summary = RunSummary()
    job = _job(defs, job_name)
    order = {key: i for i, key in enumerate(instance.get_dynamic_partitions("brands"))}
    for project_key, brand_keys in members.items():
        brands = sorted(brand_keys, key=order.__getitem__)
        start = dg.MultiPartitionKey({"project": project_key, "brand": brands[0]})
        end = dg.MultiPartitionKey({"project": project_key, "brand": brands[-1]})
        if start == end:
            result = job.execute_in_process(
                instance=instance, partition_key=start, run_config=QUIET, raise_on_error=False
            )
        else:
            tags = {ASSET_PARTITION_RANGE_START_TAG: str(start), ASSET_PARTITION_RANGE_END_TAG: str(end)}
            result = job.execute_in_process(instance=instance, tags=tags, run_config=QUIET, raise_on_error=False)
        pairs = [f"{b}|{project_key}" for b in brands]
        if result.success:
            summary.succeeded.extend(pairs)
        else:
            summary.failed.update({p: _failure_text(result) for p in pairs})
    return summary


def project_members(source_url: str) -> dict[str, list[str]]:
    """Project key -> member brand keys, from the reference snapshot."""
    with postgres.connect(source_url) as conn:
        rows = conn.execute("SELECT project_id, brand_id FROM dc_staging.ref_project_brands ORDER BY 1, 2").fetchall()
    members: dict[str, list[str]] = {}
    for project_id, brand_id in rows:
        members.setdefault(f"p{project_id}", []).append(f"b{brand_id}")
    return members


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            messages.append(f"{event.step_key}: {event.step_failure_data.error.message.strip().splitlines()[0]}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data  # an AssetCheckEvaluation in Dagster 1.13
            if not data.passed:
                messages.append(f"check {data.check_name} failed")
    return "; ".join(messages) or "run failed"


def latest_reports(source_url: str) -> list[tuple]:
    with postgres.connect(source_url) as conn:
        if not postgres.table_exists(conn, "dc_reports.report_index"):
            return []
        return conn.execute(
            "SELECT DISTINCT ON (project_id, report_id) project_id, report_id, health, paths "
            "FROM dc_reports.report_index ORDER BY project_id, report_id, generated_at DESC"
        ).fetchall()


def reset_home(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
