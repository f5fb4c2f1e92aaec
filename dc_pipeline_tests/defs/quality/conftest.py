"""One demo database and Dagster instance for the quality tests; small runs of one project each."""

from __future__ import annotations

import os

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

ENV_KEYS = ("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME", "DC_CONFIG_PATH")
# The quality stage and the scoring asset right after it: enough to see blocking, fast to run.
DQ_ASSETS = (
    "src_metrics",
    "src_normalised_values",
    "src_business_outcomes",
    "validated_values",
    "validated_outcomes",
    "validated_metrics",
    "dq_results",
    "dc_scores",
)


@pytest.fixture(scope="package")
def dq_env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        os.environ.pop("DC_CONFIG_PATH", None)
        env = make_pipeline_env(pg_server, tmp_path_factory.mktemp("dq_env"))
        job = dg.define_asset_job("dq_and_scores_job", selection=dg.AssetSelection.assets(*DQ_ASSETS))
        env.defs = dg.Definitions.merge(env.defs, dg.Definitions(jobs=[job]))
        runner.run_reference(env.defs, env.instance)
        yield env
        env.instance.dispose()
