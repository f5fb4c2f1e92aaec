"""In a real scoring run (one run over two project partitions, the in-process executor) the later steps get the
frames the earlier ones wrote, and each is what reading the table back returns (rows in any order); with the
materializations stored in batches (DAGSTER_EVENT_BATCH_SIZE, runner.py) each partition still has its own."""

import os

import dagster as dg
import pandas as pd
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.handoff import HandOff
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def test_the_frames_handed_over_in_a_run_equal_the_tables_read_back(pg_server, tmp_path, monkeypatch):
    taken = []
    take = HandOff.take

    def recording_take(self, table, where, columns):
        frame = take(self, table, where, columns)
        if frame is not None:
            taken.append((table, dict(where), columns, frame))
        return frame

    monkeypatch.setattr(HandOff, "take", recording_take)
    with restored_environment(("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME")):
        env = make_pipeline_env(pg_server, tmp_path)
        try:
            runner.run_reference(env.defs, env.instance)
            summary = runner.run_projects(env.defs, env.instance, ["p1", "p2"], job_name="scoring_job", batch_size=2)
            assert os.environ["DAGSTER_EVENT_BATCH_SIZE"] == runner.EVENT_BATCH_SIZE
            # run without capturing its outputs (runner._execute_uncaptured), tagged as execute_in_process tags it
            run = env.instance.get_runs(limit=1)[0]
            assert run.job_name == "scoring_job" and run.is_success
            assert (run.tags[ASSET_PARTITION_RANGE_START_TAG], run.tags[ASSET_PARTITION_RANGE_END_TAG]) == ("p1", "p2")
            for asset in ("src_normalised_values", "validated_values", "dq_results", "dc_scores"):
                materialized = env.instance.get_materialized_partitions(dg.AssetKey(asset))
                assert {"p1", "p2"} <= materialized, asset
                records = env.instance.fetch_materializations(dg.AssetKey(asset), limit=10).records
                assert sorted(r.partition_key for r in records) == ["p1", "p2"], asset
        finally:
            env.instance.dispose()
    assert summary.failed == {}
    assert {"dc_staging.src_normalised_values", "dc_core.validated_values"} <= {t for t, *_ in taken}
    with postgres.connect(env.url) as conn:
        for table, where, columns, frame in taken:
            assert sorted(where["project_id"]) == [1, 2] and len(frame) > 0
            read = postgres.read_table(conn, table, where, columns=columns)
            pd.testing.assert_frame_equal(_sorted(frame), _sorted(read), obj=table)
