"""Refresh stability through real Dagster runs on a real Postgres: two refreshes of TechCorp p1 (SPEC §4 fixture)
with the source values changed between them leave a rank-history record of the moves, a churn sentence in the
dc_scores metadata and a refresh_churn block in report 1; two refreshes of a brand's recommendations leave a
knee-plan record; `dc-pipeline explain` on a report from before a refresh finds the run that wrote its replaced
inputs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline.cli_explain import explain
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow

PROJECT, WATCH, LAPTOP = 1, 3, 2  # TechWatch ranks 3rd, TechLaptop 1st in Q1 2024
ENV_KEYS = ("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME", "DC_CONFIG_PATH", "OPTUNA_N_TRIALS",
            "OPTUNA_N_JOBS", "OPTUNA_TIMEOUT", "MODELS_DIR", "OPTUNA_STORAGE_URL")  # fmt: skip
SCORES_AND_REPORT = ("src_metrics", "src_normalised_values", "src_business_outcomes", "validated_values",
                     "validated_outcomes", "validated_metrics", "dq_results", "dc_scores",
                     "report_dc_score_performance_analysis")  # fmt: skip


@pytest.fixture(scope="module")
def env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        tmp = tmp_path_factory.mktemp("refresh_history")
        for key in ("DC_CONFIG_PATH", "OPTUNA_STORAGE_URL"):
            os.environ.pop(key, None)
        os.environ.update(OPTUNA_N_TRIALS="3", OPTUNA_N_JOBS="1", OPTUNA_TIMEOUT="60", MODELS_DIR=str(tmp / "models"))
        env = make_pipeline_env(pg_server, tmp)
        jobs = [
            dg.define_asset_job("scores_and_report_job", selection=dg.AssetSelection.assets(*SCORES_AND_REPORT)),
            dg.define_asset_job("plans_job", selection=dg.AssetSelection.assets("brand_recommendations")),
        ]
        env.defs = dg.Definitions.merge(env.defs, dg.Definitions(jobs=jobs))
        runner.run_reference(env.defs, env.instance)
        yield env
        env.instance.dispose()


def _run(env, job: str, key) -> dg.ExecuteInProcessResult:
    result = env.defs.resolve_job_def(job).execute_in_process(
        instance=env.instance, partition_key=key, run_config=runner.QUIET, raise_on_error=False
    )
    assert result.success, runner._failure_text(result)
    return result


def _materialization(result, asset: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _execute(env, statement: str, params: tuple) -> None:
    with postgres.connect(env.url) as conn:
        conn.execute(statement, params)


def _raise_watch(env) -> None:
    """TechWatch's four section metrics to 99: it overtakes both others (DC 99 > 85.2 > 78.6)."""
    _execute(
        env,
        "UPDATE public.normalisedvalue SET normalized_value = 99, updated_at = now() "
        "WHERE project_id = %s AND brand_id = %s",
        (PROJECT, WATCH),
    )


def test_two_refreshes_with_changed_data_leave_a_churn_record(env):
    first = _run(env, "scores_and_report_job", f"p{PROJECT}")
    assert "refresh_churn" not in _materialization(first, "dc_scores")  # nothing stored before: nothing to compare
    assert env.query("SELECT to_regclass('dc_core.rank_history') IS NULL")[0][0]
    _raise_watch(env)
    second = _run(env, "scores_and_report_job", f"p{PROJECT}")

    rows = env.query(
        "SELECT brand_id, previous_rank, rank, rank_move, change, changed, run_id, previous_run_id, data_version "
        "FROM dc_core.rank_history WHERE project_id = %s ORDER BY brand_id",
        (PROJECT,),
    )
    moves = {r[0]: r[1:6] for r in rows}
    assert moves == {1: (2, 3, -1, "down", True), 2: (1, 2, -1, "down", True), 3: (3, 1, 2, "up", True)}
    assert {r[6] for r in rows} == {second.run_id} and {r[7] for r in rows} == {first.run_id}
    # the record names the version of the rows it describes: the stored scores the second run wrote
    (stored_version,) = env.query(
        "SELECT DISTINCT data_version FROM dc_core.dc_scores WHERE project_id = %s", (PROJECT,)
    )[0]
    assert {r[8] for r in rows} == {stored_version}
    assert _materialization(second, "dc_scores")["refresh_churn"] == (
        "3 of 3 brands changed rank in 2024-01-01 since the last refresh; largest move TechWatch 3 -> 1"
    )

    (path,) = env.query(
        "SELECT paths->>'json' FROM dc_reports.report_index WHERE project_id = %s ORDER BY generated_at DESC LIMIT 1",
        (PROJECT,),
    )[0]
    envelope = json.loads(Path(path).read_text())
    block = envelope["analysis"]["refresh_churn"]
    assert (block["status"], block["n_changed"], block["n_brands"]) == ("ok", 3, 3)
    assert block["largest_move"]["brand_name"] == "TechWatch" and block["previous_run_id"] == first.run_id
    (churn,) = [
        i
        for i in envelope["key_insights"]
        if any(f["path"].startswith("/analysis/refresh_churn") for f in i["figures"])
    ]
    assert churn["text"] == (
        "3 of 3 brands changed rank in 2024-01-01 since the last refresh of the scores; the largest move is "
        "TechWatch, rank 3 -> 1."
    )

    third = _run(env, "scores_and_report_job", f"p{PROJECT}")  # same data again: recorded, nothing changed
    assert _materialization(third, "dc_scores")["refresh_churn"].startswith("0 of 3 brands changed rank")
    (n_unchanged,) = env.query(
        "SELECT count(*) FROM dc_core.rank_history WHERE run_id = %s AND NOT changed", (third.run_id,)
    )[0]
    assert n_unchanged == 3


def test_two_refreshes_of_a_recommendation_leave_a_knee_plan_record(env):
    pair = dg.MultiPartitionKey({"project": f"p{PROJECT}", "brand": f"b{LAPTOP}"})
    _run(env, "scores_and_report_job", f"p{PROJECT}")
    first = _run(env, "plans_job", pair)
    _execute(  # TechLaptop's digital spends index, its largest shortfall, 10 points higher
        env,
        "UPDATE public.normalisedvalue SET normalized_value = normalized_value + 10, updated_at = now() "
        "WHERE project_id = %s AND brand_id = %s AND metric_id IN (SELECT metric_id FROM public.metrics "
        "WHERE project_id = %s AND metric_name = 'digital_spends_index')",
        (PROJECT, LAPTOP, PROJECT),
    )
    _run(env, "scores_and_report_job", f"p{PROJECT}")
    second = _run(env, "plans_job", pair)
    ((previous_run, run, change, before, after),) = env.query(
        "SELECT previous_run_id, run_id, change, previous_knee_delta_dc, knee_delta_dc "
        "FROM dc_core.plan_history WHERE project_id = %s AND brand_id = %s",
        (PROJECT, LAPTOP),
    )
    assert (previous_run, run) == (first.run_id, second.run_id)
    assert change == "changed" and before is not None and after is not None and before != after
    assert _materialization(second, "brand_recommendations")["refresh_churn"].startswith(
        "knee plan changed since the last refresh"
    )


def _latest_report(env) -> dict:
    (path,) = env.query(
        "SELECT paths->>'json' FROM dc_reports.report_index WHERE project_id = %s "
        "AND report_id = 'dc_score_performance_analysis' ORDER BY generated_at DESC LIMIT 1",
        (PROJECT,),
    )[0]
    return json.loads(Path(path).read_text())


def _explain(env, envelope: dict, pointer: str) -> dict:
    with postgres.connect(env.url) as conn:
        return explain(conn, envelope, pointer, ScoringConfig(), env.instance)


def test_a_report_from_before_a_refresh_names_the_run_that_wrote_its_replaced_scores(env):
    before = _run(env, "scores_and_report_job", f"p{PROJECT}")
    old_report = _latest_report(env)
    pointer = f"/analysis/latest_period/brands/{WATCH}/dc_score"
    assert _explain(env, old_report, pointer)["source"]["exact"] is True
    _execute(  # TechWatch's metrics to 10: the refresh replaces the scores the old report read
        env,
        "UPDATE public.normalisedvalue SET normalized_value = 10, updated_at = now() "
        "WHERE project_id = %s AND brand_id = %s",
        (PROJECT, WATCH),
    )
    after = _run(env, "scores_and_report_job", f"p{PROJECT}")

    old = _explain(env, old_report, pointer)
    (scores,) = [i for i in old["inputs"] if i["input"] == f"dc_scores/p{PROJECT}"]
    assert scores["current"] is False and scores["version"] not in scores["stored_now"]
    # from dc_core.rank_history: the refreshes that wrote that version (an earlier one with the same data too)
    assert before.run_id in scores["runs"] and after.run_id not in scores["runs"]
    assert {m["run_id"] for m in scores["materializations"]} == set(scores["runs"])
    assert "refreshed since the report" in old["source"]["note"]  # the stored score is not the figure any more
    # with no row carrying the version any more (history pruned), the instance's materialization metadata says
    _execute(env, "DELETE FROM dc_core.rank_history WHERE data_version = %s", (scores["version"],))
    (scores,) = [i for i in _explain(env, old_report, pointer)["inputs"] if i["input"] == f"dc_scores/p{PROJECT}"]
    assert scores["runs"] == [] and before.run_id in {m["run_id"] for m in scores["materializations"]}

    new = _explain(env, _latest_report(env), pointer)
    (scores,) = [i for i in new["inputs"] if i["input"] == f"dc_scores/p{PROJECT}"]
    assert scores["current"] is True and scores["runs"] == [after.run_id]
    assert new["source"]["exact"] is True and new["source"]["changed_since_validation"] == []
    assert all(r["normalized_value"] == 10 for r in new["source"]["rows"])
