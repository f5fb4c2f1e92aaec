"""The models stage on the demo data through Dagster, a real instance and real Postgres:
one project (p102: 12 monthly periods, brand_equity_index null), one tracked and one untracked pair."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow  # real Dagster runs of the upstream stages and the models (about 2 minutes)

PROJECT = 102
ENV_KEYS = (
    "DATABASE_URL",
    "REPORTS_DIR",
    "DAGSTER_PG_URL",
    "DAGSTER_HOME",
    "DC_CONFIG_PATH",
    "OPTUNA_N_TRIALS",
    "OPTUNA_N_JOBS",
    "OPTUNA_TIMEOUT",
    "MODELS_DIR",
    "OPTUNA_STORAGE_URL",
)
UPSTREAM = (
    "src_metrics",
    "src_normalised_values",
    "src_business_outcomes",
    "validated_values",
    "validated_outcomes",
    "validated_metrics",
    "dq_results",
    "dc_scores",
    "index_robustness",
)
STUDY_FIELDS = {
    "study_name",
    "trials_run",
    "trials_stored",
    "best_value",
    "best_params",
    "improvement_vs_default",
    "wall_seconds",
    "n_complete",
    "n_pruned",
    "trials_to_within_1pct",
    "top_trials",
}


@pytest.fixture(scope="module")
def models_env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        tmp = tmp_path_factory.mktemp("models_env")
        for key in ("DC_CONFIG_PATH", "OPTUNA_STORAGE_URL"):
            os.environ.pop(key, None)
        # A small budget through the environment, as the demo does; the SPEC defaults stay in config.
        os.environ.update(OPTUNA_N_TRIALS="5", OPTUNA_N_JOBS="1", OPTUNA_TIMEOUT="120", MODELS_DIR=str(tmp / "models"))
        env = make_pipeline_env(pg_server, tmp)
        upstream = dg.define_asset_job("models_upstream_job", selection=dg.AssetSelection.assets(*UPSTREAM))
        env.defs = dg.Definitions.merge(env.defs, dg.Definitions(jobs=[upstream]))
        runner.run_reference(env.defs, env.instance)
        summary = runner.run_projects(env.defs, env.instance, [f"p{PROJECT}"], job_name="models_upstream_job")
        assert summary.failed == {}
        members = {
            b
            for (b,) in env.query(
                "SELECT brand_id FROM dc_staging.ref_project_brands WHERE project_id = %s", (PROJECT,)
            )
        }
        all_brands = {b for (b,) in env.query("SELECT brand_id FROM dc_staging.ref_brands")}
        env.tracked, env.untracked = min(members), min(all_brands - members)
        env.models_dir = tmp / "models"
        yield env
        env.instance.dispose()


# SPEC §6a uses 500 bootstrap refits for the effect CI; 100 keep the test short and still give an interval.
FAST = {"ops": {"outcome_models": {"config": {"bootstrap_reps": 100}}}}


def _run(env, job_name: str, partition_key) -> dg.ExecuteInProcessResult:
    run_config = {**runner.QUIET, **(FAST if job_name == "models_job" else {})}
    result = env.defs.resolve_job_def(job_name).execute_in_process(
        instance=env.instance, partition_key=partition_key, run_config=run_config, raise_on_error=False
    )
    assert result.success, runner._failure_text(result)
    return result


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _pair(env, brand_id: int) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"project": f"p{PROJECT}", "brand": f"b{brand_id}"})


@pytest.fixture(scope="module")
def project_run(models_env):
    return _run(models_env, "models_job", f"p{PROJECT}")


def test_outcome_models_fit_available_targets_and_record_tuning(models_env, project_run):
    meta = _metadata(project_run, "outcome_models")
    rows = {
        r[0]: r[1:]
        for r in models_env.query(
            "SELECT target, status, reason, skill, validated, effect_estimate, effect_ci_low, effect_ci_high, model_id "
            "FROM dc_models.outcome_model_results WHERE project_id = %s",
            (PROJECT,),
        )
    }
    assert len(rows) == 9
    status, reason = rows["brand_equity_index"][:2]
    assert status == "missing_input"
    assert reason.startswith(
        f"missing outcome: brand_equity_index is null in all 60 scored brand-periods of project {PROJECT}"
    )
    status, _, skill, validated, estimate, low, high, model_id = rows["revenue"]
    assert status == "ok" and skill is not None and low <= estimate <= high
    # The demo plants revenue ∝ 1.03^(DC−80): a clearly positive effect per DC point.
    assert estimate > 0
    fitted = [t for t, r in rows.items() if r[0] == "ok"]
    assert meta["targets_fitted"] == len(fitted) >= 6
    summaries = meta["study_summaries"]
    assert len(summaries) == len(fitted) and all(STUDY_FIELDS <= set(s) for s in summaries.values())
    assert all(s["trials_run"] == 5 and s["trials_stored"] == 5 for s in summaries.values())
    assert meta["trials_run"] == 5 * len(fitted)
    (n_studies,) = models_env.query(
        "SELECT count(*) FROM optuna.studies WHERE study_name LIKE %s", (f"outcome_model|{PROJECT}|all|%",)
    )[0]
    assert n_studies == len(fitted)
    registry = models_env.query(
        "SELECT model_id, artifact_path FROM dc_models.model_registry WHERE project_id = %s AND kind = 'outcome_model'",
        (PROJECT,),
    )
    assert {m for m, _ in registry} == {rows[t][-1] for t in fitted}
    assert all(Path(p).is_file() and Path(p).is_relative_to(models_env.models_dir) for _, p in registry)


def test_rerun_resumes_finished_studies_without_new_trials(models_env, project_run):
    first = _metadata(project_run, "outcome_models")
    meta = _metadata(_run(models_env, "models_job", f"p{PROJECT}"), "outcome_models")
    assert meta["trials_run"] == 0
    assert meta["models_reused"] == first["targets_fitted"]  # same data, settings and code: stored fits
    assert all(s["trials_stored"] == 5 for s in meta["study_summaries"].values())
    (n_rows,) = models_env.query(
        "SELECT count(*) FROM dc_models.outcome_model_results WHERE project_id = %s", (PROJECT,)
    )[0]
    assert n_rows == 9  # the partition is rewritten, not appended


def test_index_robustness_bands_every_brand_period(models_env):
    event = models_env.instance.get_latest_materialization_event(dg.AssetKey("index_robustness"))
    meta = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    n_scored = models_env.query(
        "SELECT count(*) FROM dc_core.dc_scores WHERE project_id = %s AND dc_score IS NOT NULL", (PROJECT,)
    )[0][0]
    mc = models_env.query(
        "SELECT rank_lo, nominal_rank, rank_hi, n_draws FROM dc_core.robustness_monte_carlo "
        "WHERE project_id = %s AND nominal_rank IS NOT NULL",
        (PROJECT,),
    )
    assert len(mc) == n_scored and meta["periods"] == 12
    assert all(lo <= hi and n == 1000 for lo, _, hi, n in mc)
    loso = models_env.query(
        "SELECT DISTINCT dropped_section FROM dc_core.robustness_loso WHERE project_id = %s", (PROJECT,)
    )
    assert len(loso) == 4 and set(meta["loso_mean_abs_rank_shift"]) == {s for (s,) in loso}


def test_tracked_pair_forecasts_and_recommendations(models_env, project_run):
    brand = models_env.tracked
    result = _run(models_env, "brand_models_job", _pair(models_env, brand))
    forecast_meta = _metadata(result, "brand_forecasts")
    summaries = {
        s: (tier, status)
        for s, tier, status in models_env.query(
            "SELECT series, tier, status FROM dc_core.brand_forecast_summaries WHERE project_id = %s AND brand_id = %s",
            (PROJECT, brand),
        )
    }
    assert summaries["dc"] == ("ets", "ok")  # 12 periods: the ets tier (8 to < 28)
    assert summaries["brand_equity_index"][1] == "missing_input"
    bounds = models_env.query(
        'SELECT min("q0.005"), max("q0.995"), count(*) FROM dc_core.brand_forecasts '
        "WHERE project_id = %s AND brand_id = %s AND series = 'dc'",
        (PROJECT, brand),
    )[0]
    assert 0 <= bounds[0] <= bounds[1] <= 100 and bounds[2] == 24
    assert forecast_meta["series_forecast"] == sum(1 for _, st in summaries.values() if st == "ok")

    rec_meta = _metadata(result, "brand_recommendations")
    (status, n_plans, hv, study) = models_env.query(
        "SELECT status, n_plans, hypervolume, study_name FROM dc_core.brand_recommendation_summaries "
        "WHERE project_id = %s AND brand_id = %s",
        (PROJECT, brand),
    )[0]
    assert status == "ok" and n_plans >= 1 and 0 < hv <= 1
    (summary,) = rec_meta["study_summaries"].values()
    assert STUDY_FIELDS <= set(summary) and summary["study_name"] == study and summary["trials_run"] == 5
    plans = models_env.query(
        "SELECT delta_dc, effort FROM dc_core.brand_recommendation_plans "
        "WHERE project_id = %s AND brand_id = %s ORDER BY effort",
        (PROJECT, brand),
    )
    assert len(plans) == n_plans
    assert all(a[0] <= b[0] + 1e-9 for a, b in zip(plans, plans[1:]))  # a Pareto front: more effort, more gain


def test_untracked_pair_succeeds_with_no_rows(models_env, project_run):
    brand = models_env.untracked
    result = _run(models_env, "brand_models_job", _pair(models_env, brand))
    for asset, table in (
        ("brand_forecasts", "brand_forecast_summaries"),
        ("brand_recommendations", "brand_recommendation_summaries"),
    ):
        meta = _metadata(result, asset)
        assert meta["not_tracked"] == f"not tracked: brand b{brand} is not a member of project p{PROJECT}"
        assert "forecasts" not in meta and "recommendations" not in meta  # no neighbour's results
        (n,) = models_env.query(
            f"SELECT count(*) FROM dc_core.{table} WHERE brand_id = %s AND project_id = %s", (brand, PROJECT)
        )[0]
        assert n == 0
