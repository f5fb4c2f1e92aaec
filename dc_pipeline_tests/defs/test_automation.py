"""Declarative automation on a real instance and a real database (the sensor's evaluation, run in the test):
a new brand's pairs are requested for every scored project, members or not, without re-tuning the existing
pairs; a changed score refreshes its project's models, pairs and reports and nothing else, held back while the
demo's work plan runs and requested once it is done."""

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow

ENV_KEYS = ("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME")
SCORED = ["p1", "p101"]


@pytest.fixture(scope="module")
def env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        pipeline = make_pipeline_env(pg_server, tmp_path_factory.mktemp("automation"))
        runner.run_reference(pipeline.defs, pipeline.instance)
        assert not runner.run_projects(pipeline.defs, pipeline.instance, SCORED, job_name="scoring_job").failed
        yield pipeline
        pipeline.instance.dispose()


def _requested(result, asset: str) -> set[str]:
    return {str(k) for k in result.get_requested_partitions(dg.AssetKey(asset))}


def _requested_assets(env, result) -> set[str]:
    keys = env.defs.get_repository_def().asset_graph.get_all_asset_keys()
    return {k.to_user_string() for k in keys if result.get_num_requested(k)}


def test_the_automation_sensor_runs_by_default(env):
    sensor = env.defs.get_sensor_def("default_automation_condition_sensor")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_new_brand_pairs_and_changed_scores_flow_on_and_nothing_else(env, tmp_path):
    first = dg.evaluate_automation_conditions(defs=env.defs, instance=env.instance)
    assert first.total_requested == 0  # the first evaluation starts from what is there

    with runner.postgres.connect(env.url) as conn:
        conn.execute("INSERT INTO public.brands (brand_id, brand_name, category_id) VALUES (950, 'Newcomer', 1)")
        conn.execute("INSERT INTO public.project_brands (project_id, brand_id, role) VALUES (1, 950, 'competitor')")
        conn.commit()
    runner.run_reference(env.defs, env.instance)  # registers b950: every project x b950 pair is new
    brands = env.instance.get_dynamic_partitions("brands")
    assert "b950" in brands

    second = dg.evaluate_automation_conditions(defs=env.defs, instance=env.instance, cursor=first.cursor)
    # Pairs of the new brand in the scored projects, the member b950|p1 and the non-members alike; projects
    # without scores wait for them; the refreshed reference snapshot re-tunes nothing.
    assert _requested(second, "brand_forecasts") == {f"b950|{p}" for p in SCORED}
    assert _requested_assets(env, second) == {"brand_forecasts"}

    assert not runner.run_projects(env.defs, env.instance, ["p1"], job_name="scoring_job").failed
    # While `dc-pipeline demo` runs its work plan, automation holds back (the plan materializes everything) ...
    marker = tmp_path / "plan_running"
    marker.touch()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DC_PLAN_MARKER", str(marker))
        held = dg.evaluate_automation_conditions(defs=env.defs, instance=env.instance, cursor=second.cursor)
    assert held.total_requested == 0
    # ... and afterwards asks for what the plan left undone: the changed score of p1 was remembered.
    marker.unlink()
    third = dg.evaluate_automation_conditions(defs=env.defs, instance=env.instance, cursor=held.cursor)
    assert _requested(third, "index_robustness") == {"p1"} and _requested(third, "outcome_models") == {"p1"}
    # Every pair of p1 (b950|p1 was requested on the last tick already and is not asked for twice).
    assert _requested(third, "brand_forecasts") >= {f"{b}|p1" for b in brands if b != "b950"}
    assert _requested(third, "report_sectional_score_deep_dive") == {"p1"}
    # The cross-project evolution (one unpartitioned asset over every project) follows any project's change.
    assert "cross_project_evolution" in _requested_assets(env, third)
    partitioned = _requested_assets(env, third) - {"brand_forecasts", "cross_project_evolution"}
    assert all(_requested(third, a) <= {"p1"} for a in partitioned)
