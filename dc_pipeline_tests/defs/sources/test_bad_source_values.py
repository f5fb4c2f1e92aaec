"""Bad values in the source tables on a real Postgres, through real Dagster runs: Postgres `NaN` in
float and numeric columns is quarantined (V1, V4, V5) and the project still scored; a metric failing V4
is excluded from scoring; a foreign metric is named with its project (V2); a value the reader cannot
type stops the run with table, column and value in the Failure; models on an unscored project say
missing_input plainly."""

from __future__ import annotations

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow

PROJECT, UNREADABLE, FOREIGN = 103, 2, 101
ENV_KEYS = ("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME", "DC_CONFIG_PATH")
STAGES = (
    "src_metrics",
    "src_normalised_values",
    "src_business_outcomes",
    "validated_values",
    "validated_outcomes",
    "validated_metrics",
    "dq_results",
    "dc_scores",
)


@pytest.fixture(scope="module")
def bad_env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        env = make_pipeline_env(pg_server, tmp_path_factory.mktemp("bad_sources"))
        jobs = [
            dg.define_asset_job("stages_job", selection=dg.AssetSelection.assets(*STAGES)),
            dg.define_asset_job("outcomes_only_job", selection=dg.AssetSelection.assets("outcome_models")),
        ]
        env.defs = dg.Definitions.merge(env.defs, dg.Definitions(jobs=jobs))
        runner.run_reference(env.defs, env.instance)
        yield env
        env.instance.dispose()


def _plant(env) -> dict:
    """NaN in the three float/numeric columns, a negative weight, a row of a foreign metric."""
    nan_metric, negative_metric = [
        r[0] for r in env.query(f"SELECT metric_id FROM public.metrics WHERE project_id = {PROJECT} ORDER BY 1 LIMIT 2")
    ]
    nan_ids = [
        r[0]
        for r in env.query(
            f"SELECT id FROM public.normalisedvalue WHERE project_id = {PROJECT} AND metric_id NOT IN "
            f"({nan_metric}, {negative_metric}) ORDER BY id LIMIT 3"
        )
    ]
    (foreign_metric,) = env.query(f"SELECT min(metric_id) FROM public.metrics WHERE project_id = {FOREIGN}")[0]
    brand, period = env.query(f"SELECT brand_id, period FROM public.business_outcomes WHERE project_id = {PROJECT}")[0]
    statements = [
        f"UPDATE public.normalisedvalue SET normalized_value = 'NaN' WHERE id IN ({', '.join(map(str, nan_ids))})",
        f"UPDATE public.metrics SET weight = 'NaN' WHERE metric_id = {nan_metric}",
        f"UPDATE public.metrics SET weight = -1 WHERE metric_id = {negative_metric}",
        f"UPDATE public.business_outcomes SET revenue = 'NaN' WHERE project_id = {PROJECT} AND brand_id = {brand} "
        f"AND period = '{period}'",
        "INSERT INTO public.normalisedvalue (project_id, brand_id, metric_id, period, normalized_value, source, "
        "created_at, updated_at) SELECT project_id, brand_id, "
        f"{foreign_metric}, period, 50, source, now(), now() FROM public.normalisedvalue WHERE id = {nan_ids[0]}",
    ]
    for statement in statements:
        _execute(env, statement)
    return {
        "nan_ids": nan_ids,
        "nan_metric": nan_metric,
        "negative_metric": negative_metric,
        "foreign_metric": foreign_metric,
    }


def _execute(env, statement: str) -> None:
    from dc_pipeline.adapters import postgres

    with postgres.connect(env.url) as conn:
        conn.execute(statement)
        conn.commit()


def _quarantine(env, rule: str) -> list[tuple]:
    return env.query(
        "SELECT source, reason, row_key FROM dc_dq.quarantine WHERE project_id = %s AND rule_id = %s ORDER BY 2",
        (PROJECT, rule),
    )


def test_nan_and_bad_metrics_are_quarantined_and_the_project_is_scored(bad_env):
    planted = _plant(bad_env)
    summary = runner.run_projects(bad_env.defs, bad_env.instance, [f"p{PROJECT}"], job_name="stages_job")
    assert summary.failed == {}, summary.failed

    v1 = [(s, r) for s, r, _ in _quarantine(bad_env, "V1")]
    assert v1 == [("normalisedvalue", "value_not_finite: normalized_value NaN")] * 3
    excluded = {planted["nan_metric"], planted["negative_metric"]}
    v4 = _quarantine(bad_env, "V4")
    definitions = [(k["metric_id"], r) for s, r, k in v4 if s == "metrics"]
    assert sorted(definitions) == [
        (m, "invalid_metric_definition: weight not a finite number >= 0") for m in sorted(excluded)
    ]
    value_rows = [r for s, r, _ in v4 if s == "normalisedvalue"]
    assert value_rows and all(r.startswith("invalid_metric_definition: metric_id ") for r in value_rows)
    v5 = [r for s, r, _ in _quarantine(bad_env, "V5")]
    assert len(v5) == 1 and v5[0].startswith("outcome_out_of_range: revenue nan not >= 0")
    v2 = [r for s, r, _ in _quarantine(bad_env, "V2")]
    assert f"metric_of_other_project: metric_id {planted['foreign_metric']} belongs to project {FOREIGN}, " in v2[0]

    # Scoring read only the validated metric set: neither bad metric, and the project has DC scores.
    scored_metrics = {
        m
        for (m,) in bad_env.query(
            "SELECT DISTINCT metric_id FROM dc_core.dc_metric_contributions WHERE project_id = %s", (PROJECT,)
        )
    }
    assert scored_metrics and not scored_metrics & excluded
    validated = {
        m for (m,) in bad_env.query("SELECT metric_id FROM dc_core.validated_metrics WHERE project_id = %s", (PROJECT,))
    }
    assert len(validated) == 25 and not validated & excluded
    (n_scored,) = bad_env.query(
        "SELECT count(*) FROM dc_core.dc_scores WHERE project_id = %s AND dc_score IS NOT NULL", (PROJECT,)
    )[0]
    assert n_scored > 0
    # The NaN revenue cell is nulled in the validated outcomes, the other cells kept.
    (nulls, values) = bad_env.query(
        "SELECT count(*) FILTER (WHERE revenue IS NULL), count(revenue) FROM dc_core.validated_outcomes "
        "WHERE project_id = %s",
        (PROJECT,),
    )[0]
    assert nulls == 1 and values == 29


def test_unreadable_value_fails_the_run_naming_table_column_and_value(bad_env):
    _execute(
        bad_env,
        f"UPDATE public.normalisedvalue SET period = 'infinity' WHERE id = "
        f"(SELECT min(id) FROM public.normalisedvalue WHERE project_id = {UNREADABLE})",
    )
    result = bad_env.defs.resolve_job_def("stages_job").execute_in_process(
        instance=bad_env.instance, partition_key=f"p{UNREADABLE}", run_config=runner.QUIET, raise_on_error=False
    )
    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["src_normalised_values"]
    message = failures[0].step_failure_data.error.message
    assert "Error occurred while executing" not in message
    assert f"cannot read public.normalisedvalue for project(s) {UNREADABLE}: column period (date): " in message
    assert "value 'infinity'" in message and "Correct that value" in message


def test_models_on_an_unscored_project_say_missing_input_plainly(bad_env):
    """p2 never got DC scores (its source read failed above): every target is missing_input, and the reason
    says that nothing was scored instead of 'null for all 0 brand-periods'."""
    result = bad_env.defs.resolve_job_def("outcomes_only_job").execute_in_process(
        instance=bad_env.instance, partition_key=f"p{UNREADABLE}", run_config=runner.QUIET, raise_on_error=False
    )
    assert result.success, runner._failure_text(result)
    rows = bad_env.query(
        "SELECT status, reason FROM dc_models.outcome_model_results WHERE project_id = %s", (UNREADABLE,)
    )
    assert len(rows) == 9
    assert {s for s, _ in rows} == {"missing_input"}
    assert all(
        r.startswith(f"missing input: no scored brand-periods for project {UNREADABLE} (observed 0, required >= 1)")
        for _, r in rows
    )
