"""The IO manager keeps every table of a partition from one run: two real runs of one partition started at once
(two processes, one Postgres, one Dagster instance) end with one run_id in every table of that partition, and a
run already marked failed writes nothing more."""

import os
import subprocess
import sys

import dagster as dg
import pandas as pd
import pytest

from dc_pipeline import runner
from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow

ENV_KEYS = ("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME")

RUN_ONE_PARTITION = """
import sys
import dagster as dg
from dc_pipeline import runner
from dc_pipeline.definitions import build_definitions
summary = runner.run_projects(build_definitions(), dg.DagsterInstance.get(), [sys.argv[1]], job_name="scoring_job")
print("failed:", summary.failed or "none")
"""


@pytest.fixture(scope="module")
def env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        pipeline = make_pipeline_env(pg_server, tmp_path_factory.mktemp("one_run_per_partition"))
        runner.run_reference(pipeline.defs, pipeline.instance)
        yield pipeline
        pipeline.instance.dispose()


def run_ids_by_table(env, project_id: int) -> dict[str, set[str]]:
    """Every pipeline table holding rows of the project: the run_ids of those rows."""
    tables = env.query(
        "SELECT table_schema || '.' || table_name FROM information_schema.columns WHERE column_name = 'run_id' "
        "AND table_schema LIKE 'dc\\_%' AND (table_schema, table_name) IN (SELECT table_schema, table_name FROM "
        "information_schema.columns WHERE column_name = 'project_id') ORDER BY 1"
    )
    found = {}
    for (table,) in tables:
        ids = {r[0] for r in env.query(f"SELECT DISTINCT run_id FROM {table} WHERE project_id = %s", (project_id,))}
        if ids:
            found[table] = ids
    return found


def test_two_concurrent_runs_of_one_partition_leave_every_table_from_one_run(env):
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_ONE_PARTITION, "p1"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert all("failed: none" in out for out in outputs), outputs

    runs = env.instance.get_runs(dg.RunsFilter(job_name="scoring_job", tags={"dagster/partition": "p1"}))
    assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    reference = {r.run_id for r in env.instance.get_runs(dg.RunsFilter(job_name="reference_job"))}
    by_table = {t: ids for t, ids in run_ids_by_table(env, 1).items() if ids != reference}  # the unpartitioned ref_*
    assert {"dc_core.dc_scores", "dc_core.validated_values", "dc_staging.src_metrics"} <= set(by_table)
    assert set().union(*by_table.values()) in ({runs[0].run_id}, {runs[1].run_id}), by_table
    # They did run at once: one of them waited for the other's partition.
    waits = [
        e.message
        for r in runs
        for e in env.instance.all_logs(r.run_id)
        if e.message and e.message.startswith("waiting for partition(s) p1")
    ]
    assert len(waits) == 1 and "run " in waits[0], waits


@dg.asset(partitions_def=projects_partitions, metadata={"dc/schema": "dc_staging"})
def marked_failed_midway(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """Stands for a step whose run the run monitor has just marked FAILED (its worker died)."""
    context.instance.report_run_failed(context.dagster_run, "the run worker died (test)")
    return pd.DataFrame({"project_id": [1], "value": [1.0]})


def test_a_run_already_marked_failed_writes_nothing(env):
    defs = dg.Definitions.merge(
        env.defs,
        dg.Definitions(assets=[marked_failed_midway], jobs=[dg.define_asset_job("fenced_job", [marked_failed_midway])]),
    )
    result = defs.resolve_job_def("fenced_job").execute_in_process(
        instance=env.instance, partition_key="p1", raise_on_error=False
    )
    assert not result.success
    failure = result.failure_data_for_node("marked_failed_midway").error.message
    assert "is already FAILURE" in failure and "not written" in failure
    assert env.query("SELECT to_regclass('dc_staging.marked_failed_midway') IS NULL")[0][0]
