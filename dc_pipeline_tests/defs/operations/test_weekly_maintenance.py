"""weekly_maintenance_job end to end on a real instance and the demo data: ANALYZE, Optuna cleanup of
real studies, the TechCorp canary against SPEC §4, and weekly_ops_report in HTML and Markdown."""

import copy
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import optuna

from dc_pipeline.adapters import maintenance, postgres
from dc_pipeline.defs.operations.canary import report_figures, run_canary
from dc_pipeline.domain.reports.catalog import reads_only_data
from dc_pipeline.domain.reports.registry import BUILDER_MODULES
from dc_pipeline.domain.settings import SystemConfig
from dc_pipeline.domain.tuning import study_name

# (kind, brand, target, data version, age in days of its trials); retention is 90 days.
STUDIES = [
    ("outcome_model", None, "revenue", "v1", 200),  # oldest of 5 in its group: deleted
    ("outcome_model", None, "revenue", "v2", 150),  # deleted
    ("outcome_model", None, "revenue", "v3", 120),  # old but among the 3 newest: kept
    ("outcome_model", None, "revenue", "v4", 100),  # kept
    ("outcome_model", None, "revenue", "v5", 1),  # kept
    ("forecast", 1, "dc_score", "v1", 300),  # alone in its group: kept however old
    ("forecast", 2, "dc_score", "v1", 95),  # alone in its group: kept
    ("forecast", 2, "dc_score", "v2", 5),
    ("forecast", 2, "dc_score", "v3", 4),
    ("forecast", 2, "dc_score", "v4", 3),  # 4 in the group, the oldest is 95 days old: deleted
]
TRIALS_PER_STUDY = 2


def _create_studies(url: str) -> dict[str, int]:
    storage = optuna.storages.RDBStorage(maintenance.optuna_storage_url(url))
    names = {}
    for kind, brand, target, version, age in STUDIES:
        name = study_name(kind, 1, brand, target, version * 6)
        study = optuna.create_study(study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=7))
        study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0) ** 2, n_trials=TRIALS_PER_STUDY)
        names[name] = age
    storage.engine.dispose()
    with postgres.connect(url) as conn:  # age the trials: Optuna stores naive UTC-clock datetimes
        for name, age in names.items():
            conn.execute(
                "UPDATE optuna.trials SET datetime_start = (now() AT TIME ZONE 'UTC') - make_interval("
                "days => %s), datetime_complete = (now() AT TIME ZONE 'UTC') - make_interval(days => %s) "
                "+ interval '1 second' WHERE study_id = (SELECT study_id FROM optuna.studies WHERE "
                "study_name = %s)",
                (age, age, name),
            )
    return names


def test_optuna_cleanup_copes_without_schema_or_tables(fresh_db):
    now = datetime.now(UTC)
    with postgres.connect(fresh_db) as conn:
        result = maintenance.prune_optuna(conn, maintenance.optuna_storage_url(fresh_db), now, 90)
        assert result["removed"] == 0 and "no Optuna studies yet" in result["note"]
        conn.execute("CREATE SCHEMA optuna")
        conn.commit()
        result = maintenance.prune_optuna(conn, maintenance.optuna_storage_url(fresh_db), now, 90)
    assert result["removed"] == 0 and "no Optuna studies yet" in result["note"]


def test_canary_flags_a_score_that_contradicts_section_4(ops_env):
    with postgres.connect(ops_env.url) as conn:
        assert run_canary(conn, SystemConfig()).status == "ok"
        conn.execute("UPDATE dc_core.dc_scores SET dc_score = dc_score + 0.5 WHERE project_id = 1 AND brand_id = 2")
        broken = run_canary(conn, SystemConfig())
        conn.rollback()
    assert broken.status == "failed"
    assert any(p.startswith("TechCorp brand 2 DC 85.700000 != expected 85.200000") for p in broken.problems)


def test_canary_fails_on_a_changed_report_number(ops_env):
    recorded = report_figures()
    assert recorded["depth"] == "standard" and set(recorded["projects"]) == {"1", "2"}
    # Every registered report reading only data-determined inputs has its figures; those reading tuned models depend
    # on the tuning budget and on which model stages ran, so the canary checks their schema and citations only.
    data_reports = {r for r in BUILDER_MODULES if reads_only_data(r)}
    assert set(recorded["projects"]["2"]) == data_reports and 0 < len(data_reports) < len(BUILDER_MODULES)
    weakest = "/analysis/brand_profiles/brands/3/weakest_score"
    assert recorded["projects"]["2"]["sectional_score_deep_dive"][weakest] == 72.1
    with postgres.connect(ops_env.url) as conn:
        assert run_canary(conn, SystemConfig(), depth="standard").problems == []
        conn.execute(
            "UPDATE dc_core.dc_section_scores SET section_score = section_score - 1 "
            "WHERE project_id = 2 AND brand_id = 3 AND section_name = 'Digital Spends'"
        )
        broken = run_canary(conn, SystemConfig(), depth="standard")
        conn.rollback()
        edited = copy.deepcopy(recorded)
        edited["projects"]["1"]["dc_score_performance_analysis"]["/analysis/latest_period/portfolio_mean"] = 78.7
        off_by_one = run_canary(conn, SystemConfig(), depth="standard", figures=edited)
    assert broken.status == "failed"
    assert any(p.startswith(f"p2 sectional_score_deep_dive: {weakest} = ") for p in broken.problems), broken.problems
    assert off_by_one.problems == [
        "p1 dc_score_performance_analysis: /analysis/latest_period/portfolio_mean = 78.63333333333334, expected 78.7"
    ]


def test_weekly_maintenance_job_end_to_end(ops_env):
    url, instance = ops_env.url, ops_env.instance
    names = _create_studies(url)
    started = datetime.now(UTC)
    job = ops_env.defs.resolve_job_def("weekly_maintenance_job")
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    # Optuna: the groups' 3 newest survive, old ones beyond them are gone, with their trials.
    deleted = {study_name("outcome_model", 1, None, "revenue", v * 6) for v in ("v1", "v2")} | {
        study_name("forecast", 1, 2, "dc_score", "v1" * 6)
    }
    kept = set(names) - deleted
    remaining = {r[0] for r in ops_env.query("SELECT study_name FROM optuna.studies")}
    assert remaining == kept
    trials = ops_env.query("SELECT count(*) FROM optuna.trials")[0][0]
    assert trials == TRIALS_PER_STUDY * len(kept)

    log = {
        task: (res, run_id)
        for task, res, run_id in ops_env.query(
            "SELECT task, result, run_id FROM dc_ops.maintenance_log WHERE job = 'weekly_maintenance_job'"
        )
    }
    assert set(log) == {"analyze", "end_to_end_test", "optuna_cleanup", "performance_summary"}
    assert {run_id for _, run_id in log.values()} == {result.run_id}
    cleanup = log["optuna_cleanup"][0]
    assert cleanup["studies"] == len(STUDIES) and sorted(cleanup["removed_studies"]) == sorted(deleted)

    # ANALYZE reached the source tables and the pipeline schemas.
    analyze = log["analyze"][0]
    assert "public.normalisedvalue" in analyze["tables"] and "dc_core.dc_scores" in analyze["tables"]
    assert analyze["skipped_not_owner"] == []
    analyzed = {
        f"{s}.{t}"
        for s, t in ops_env.query(
            "SELECT schemaname, relname FROM pg_stat_user_tables WHERE last_analyze >= %s", (started,)
        )
    }
    assert {"public.normalisedvalue", "public.metrics", "dc_core.dc_scores"} <= analyzed

    # The canary rebuilt the reference report and matched §4 for the three TechCorp brands.
    canary = log["end_to_end_test"][0]
    assert canary["status"] == "ok" and canary["problems"] == [] and canary["brands_checked"] == 3

    # weekly_ops_report: counts from the instance and the storage, in both formats.
    week = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]))
    week = [r for r in week if r.dagster_run.run_id != result.run_id]
    facts = log["performance_summary"][0]
    assert facts["runs"] == len(week)
    assert facts["optuna_trials"] == trials
    event = instance.get_latest_materialization_event(dg.AssetKey("weekly_ops_report"))
    assert event is not None and event.run_id == result.run_id
    meta = event.asset_materialization.metadata
    markdown, page = Path(meta["markdown"].value).read_text(), Path(meta["html"].value).read_text()
    assert markdown.startswith("# Weekly operations report") and "| scoring_job | 2 | 0 |" in markdown  # p1 and p2
    assert f"| COMPLETE | {trials} |" in markdown
    assert page.startswith("<!doctype html>") and "scoring_job" in page
    assert (Path(meta["markdown"].value).parent / "latest.html").exists()
    assert facts["failed_runs"] == sum(r.dagster_run.status == dg.DagsterRunStatus.FAILURE for r in week)
