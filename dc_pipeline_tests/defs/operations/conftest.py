"""Fixtures for the operations stage: a Dagster instance on the test server, a webhook receiver."""

import os

import pytest

from dc_pipeline import runner
from dc_pipeline.adapters import postgres


@pytest.fixture(scope="session")
def instance(pg_server, tmp_path_factory):
    """A real instance whose storage is a database of its own on the test server (one per session:
    Dagster keeps connections to an instance's storage alive, so it is not dropped mid-session)."""
    home = tmp_path_factory.mktemp("dagster_home")
    postgres.ensure_database(pg_server, "dagster_ops_tests")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_PG_URL", postgres.database_url(pg_server, "dagster_ops_tests"))
        patch.setenv("DAGSTER_HOME", str(home))
        inst = runner.prepare_instance(home, postgres.database_url(pg_server, "postgres"))
        yield inst
        inst.dispose()


@pytest.fixture(scope="package")
def ops_env(pg_server, tmp_path_factory):
    """The demo data in a database of its own, with the reference snapshot and TechCorp p1 and p2 scored
    (what the canary reads), on an instance of its own that holds those runs."""
    from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

    with restored_environment(("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME", "DC_CONFIG_PATH")):
        os.environ.pop("DC_CONFIG_PATH", None)
        env = make_pipeline_env(pg_server, tmp_path_factory.mktemp("ops_env"))
        runner.run_reference(env.defs, env.instance)
        summary = runner.run_projects(env.defs, env.instance, ["p1", "p2"], job_name="scoring_job")
        assert summary.failed == {}, summary.failed
        yield env
        env.instance.dispose()
