"""The project's run queue (dc_pipeline/config/dagster.yaml) launches two runs of one job side by side: the pools
limit steps, not runs. Judged by Dagster's own dequeue counter on a real instance in Postgres."""

import os
import uuid
from importlib import resources

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan
from dagster._core.op_concurrency_limits_counter import (
    GlobalOpConcurrencyLimitsCounter,
    compute_run_op_concurrency_info_for_snapshot,
)
from dagster._core.snap import snapshot_from_execution_plan

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline.definitions import build_definitions
from dc_pipeline_tests.conftest import restored_environment

PLAN_JOBS = ("reference_job", "api_job", "ingest_job", "models_job", "brand_models_job", "portfolio_job",
             "evolution_job", "model_reports_job")  # fmt: skip


@pytest.fixture(scope="module")
def instance(pg_server, tmp_path_factory):
    dagster_db = f"t_{uuid.uuid4().hex[:10]}_queue"
    postgres.ensure_database(pg_server, dagster_db)
    home = tmp_path_factory.mktemp("dagster_home")
    with restored_environment(("DAGSTER_HOME", "DAGSTER_PG_URL")):
        os.environ["DAGSTER_PG_URL"] = postgres.database_url(pg_server, dagster_db)
        (home / "dagster.yaml").write_text(resources.files("dc_pipeline.config").joinpath("dagster.yaml").read_text())
        instance = dg.DagsterInstance.from_config(str(home))
        for pool, limit in runner.POOLS.items():
            instance.event_log_storage.set_concurrency_slots(pool, limit)
        yield instance
        instance.dispose()


def _queued_runs(job: dg.JobDefinition, n: int) -> list[dg.DagsterRun]:
    plan = snapshot_from_execution_plan(create_execution_plan(job), job.get_job_snapshot_id())
    concurrency = compute_run_op_concurrency_info_for_snapshot(plan)
    return [dg.DagsterRun(job_name=job.name, run_id=uuid.uuid4().hex, run_op_concurrency=concurrency) for _ in range(n)]


def _launched(instance, runs: list[dg.DagsterRun], buffer: int) -> int:
    """How many of `runs` one dequeue pass launches, as QueuedRunCoordinatorDaemon counts pools."""
    counter = GlobalOpConcurrencyLimitsCounter(
        instance, runs, [], instance.event_log_storage.get_concurrency_keys(),
        instance.event_log_storage.get_pool_limits(), slot_count_offset=buffer,
    )  # fmt: skip
    launched = 0
    for run in runs:
        if not counter.is_blocked(run):
            counter.update_counters_with_launched_item(run)
            launched += 1
    return launched


def test_two_runs_of_each_plan_job_launch_together(instance):
    config = instance.get_concurrency_config()
    queue = config.run_queue_config
    assert queue.max_concurrent_runs == 2 and instance.run_coordinator.dequeue_use_threads
    defs = build_definitions()
    held_without_buffer = []
    for name in PLAN_JOBS:
        runs = _queued_runs(defs.resolve_job_def(name), 2)
        assert _launched(instance, runs, queue.op_concurrency_slot_buffer) == 2, name
        if _launched(instance, runs, 0) < 2:
            held_without_buffer.append(name)
    # Without the buffer the queue held the second run of these jobs (their root steps fill a pool).
    assert {"api_job", "ingest_job"} <= set(held_without_buffer)
