"""The portfolio stage through Dagster on a real instance and Postgres: TechCorp (SPEC §4) scored, its models
and GA plans tuned with a small budget, then portfolio_analysis of p2 and cross_project_evolution."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dc_pipeline import runner, work_plan
from dc_pipeline.domain.reports.envelope import check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

pytestmark = pytest.mark.slow

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


def _ok(result) -> dg.ExecuteInProcessResult:
    assert result.success, runner._failure_text(result)
    return result


@pytest.fixture(scope="module")
def techcorp_env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        tmp = tmp_path_factory.mktemp("portfolio_env")
        for key in ("DC_CONFIG_PATH", "OPTUNA_STORAGE_URL"):
            os.environ.pop(key, None)
        os.environ.update(OPTUNA_N_TRIALS="3", OPTUNA_N_JOBS="1", OPTUNA_TIMEOUT="60", MODELS_DIR=str(tmp / "models"))
        env = make_pipeline_env(pg_server, tmp)
        runner.run_reference(env.defs, env.instance)
        assert runner.run_projects(env.defs, env.instance, ["p1", "p2"], job_name="scoring_job").failed == {}
        models = runner.run_projects(
            env.defs,
            env.instance,
            ["p2"],
            job_name="models_job",
            run_config={"ops": {"outcome_models": {"config": {"bootstrap_reps": 20}}}},
        )
        assert models.failed == {}
        # TechCorp's brands are b1-b3, the first of the brand dimension: one run over the range b1..b3 of p2.
        stage = work_plan.pair_stage(["p2"], ["p2"], ["b1", "b2", "b3"], 1)
        assert runner.run_stage_in_process(env.defs, env.instance, stage, workers=1).failed == {}
        env.portfolio = _ok(
            env.defs.resolve_job_def("portfolio_job").execute_in_process(
                instance=env.instance, partition_key="p2", run_config=runner.QUIET, raise_on_error=False
            )
        )
        env.evolution = _ok(
            env.defs.resolve_job_def("evolution_job").execute_in_process(
                instance=env.instance, run_config=runner.QUIET, raise_on_error=False
            )
        )
        # Reports from what is stored; a report whose minimum is unmet (TechCorp has no CLV, conversion or
        # spend) is still published, and only its report_health check fails.
        env.reports = runner.run_projects(env.defs, env.instance, ["p2"], job_name="reports_job")
        yield env
        env.instance.dispose()


def test_portfolio_allocation_spends_the_knee_budget_on_stored_plans(techcorp_env):
    env = techcorp_env
    knee = env.query("SELECT brand_id, effort FROM dc_core.brand_recommendation_plans WHERE project_id = 2 AND is_knee")
    assert len(knee) == 3
    (budget, source, spent, status) = env.query(
        "SELECT budget, budget_source, spent, status FROM dc_core.portfolio_allocation_summary WHERE project_id = 2"
    )[0]
    assert status == "ok" and source == "sum of knee-plan efforts"
    assert budget == pytest.approx(sum(e for _, e in knee))
    assert spent == pytest.approx(budget)
    rows = env.query("SELECT brand_id, effort, share_pct, delta_dc, envelope FROM dc_core.portfolio_allocation")
    assert {r[0] for r in rows} == {1, 2, 3}
    assert sum(r[2] for r in rows) == pytest.approx(100.0)
    max_gain = dict(env.query("SELECT brand_id, max(delta_dc) FROM dc_core.brand_recommendation_plans GROUP BY 1"))
    for brand_id, _, _, delta_dc, envelope in rows:
        assert 0 <= delta_dc <= max_gain[brand_id] + 1e-9
        assert envelope[0] == [0.0, 0.0, -1]  # every envelope starts at the do-nothing point


def test_portfolio_comparison_and_metadata(techcorp_env):
    env = techcorp_env
    leaders = env.query(
        "SELECT measure, brand_id, value FROM dc_core.portfolio_comparison "
        "WHERE project_id = 2 AND is_leader AND period = '2024-04-01'"
    )
    assert {m: b for m, b, _ in leaders} == {m: 2 for m, _, _ in leaders}  # TechLaptop leads everything
    assert {m for m, _, _ in leaders} == {"dc", "Marketplace", "Digital Spends", "Organic Performance", "Socialwatch"}
    reasons = {r for (r,) in env.query("SELECT DISTINCT reason FROM dc_core.portfolio_synergy WHERE project_id = 2")}
    assert reasons == {"insufficient history: 2 common periods, 6 needed"}
    (event,) = [e for e in env.portfolio.get_asset_materialization_events()]
    meta = event.materialization.metadata
    assert "TechLaptop" in meta["leaders"].value and "plan" in meta["allocation"].value


def test_cross_project_evolution_reproduces_techcorp_deltas(techcorp_env):
    rows = techcorp_env.query(
        "SELECT brand_id, from_project, to_project, jaccard, status, delta_dc, value_effect, mix_effect, "
        "section_deltas FROM dc_core.brand_evolution ORDER BY brand_id"
    )
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [(b, 1, 2, 1.0, "ok") for b in (1, 2, 3)]
    for (*_, delta, value, mix, sections), expected in zip(rows, (2.6, 2.6, 3.7)):
        assert delta == pytest.approx(expected, abs=1e-9) and value + mix == pytest.approx(delta, abs=1e-9)
        sections = sections if isinstance(sections, dict) else json.loads(sections)
        assert set(sections) == {"Marketplace", "Digital Spends", "Organic Performance", "Socialwatch"}
    ranking = techcorp_env.query("SELECT brand_id, project_id, rank FROM dc_core.brand_project_ranking")
    assert {(b, p): r for b, p, r in ranking}[(2, 2)] == 1


BUSINESS = (
    "revenue_impact_optimization",
    "market_position_enhancement",
    "customer_lifetime_value_enhancement",
    "conversion_rate_optimization",
    "roi_maximization_strategy",
    "competitive_advantage_analysis",
    "market_penetration_strategy",
    "brand_portfolio_optimization",
)


def test_reports_9_to_16_are_published_from_the_stored_plans_and_portfolio(techcorp_env):
    env = techcorp_env
    assert all("report_health" in reason for reason in env.reports.failed.values()), env.reports.failed
    rows = env.query(
        "SELECT DISTINCT ON (report_id) report_id, health, paths FROM dc_reports.report_index WHERE project_id = 2 "
        "ORDER BY report_id, generated_at DESC"
    )
    published = {r: (health, paths) for r, health, paths in rows}
    assert set(BUSINESS) <= set(published)
    for report_id in BUSINESS:
        health, paths = published[report_id]
        assert set(paths) >= {"json", "html", "md"}
        envelope = json.loads(Path(paths["json"]).read_text())
        assert check_envelope_schema(envelope) == [] and check_insights_cite_numbers(envelope) == []
        assert envelope["health"]["status"] == health
        assert "<svg" in Path(paths["html"]).read_text() or health == "FAIL"
    portfolio = json.loads(Path(published["brand_portfolio_optimization"][1]["json"]).read_text())
    allocation = portfolio["analysis"]["allocation"]
    stored = dict(env.query("SELECT brand_id, effort FROM dc_core.portfolio_allocation WHERE project_id = 2"))
    assert {int(k): b["effort"] for k, b in allocation["brands"].items()} == pytest.approx(stored)
    revenue = json.loads(Path(published["revenue_impact_optimization"][1]["json"]).read_text())
    plans = revenue["analysis"]["plan_revenue"]
    assert plans["status"] == "ok" and set(plans["brands"]) == {"1", "2", "3"}
    for reason, report_id in ((r, "customer_lifetime_value_enhancement") for r in ("customer_lifetime_value",)):
        assert published[report_id][0] == "FAIL"
        body = json.loads(Path(published[report_id][1]["json"]).read_text())
        assert f"missing outcome: {reason} is null" in body["health"]["reasons"][0]["message"]
