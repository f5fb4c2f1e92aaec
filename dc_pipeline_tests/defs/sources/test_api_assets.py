"""The API assets through Dagster: real Postgres, real HTTP to an in-process simulator serving the
same demo tables as the database. One module-scoped pipeline (reference + ingest of TechCorp p1)."""

from __future__ import annotations

import logging
import os
from datetime import UTC

import pytest
from dagster._serdes import serialize_value

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline.defs.api.schedules import api_run_config, fail_fast_tags
from dc_pipeline.demo.dataset import demo_dataset
from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.conftest import make_pipeline_env, restored_environment

API_JOB_NAME = "api_job"
API_KEY = "sim-api-key-5f1e2d3c4b"
SECRET_KEY = "sim-secret-key-9a8b7c6d"
PROJECT = "p1"
ENV_KEYS = (
    "DATABASE_URL",
    "REPORTS_DIR",
    "DAGSTER_PG_URL",
    "DAGSTER_HOME",
    "API_BASE_URLS",
    "API_KEY",
    "AUTH_TOKEN",
    "API_RETRY_ATTEMPTS",
    "API_RETRY_DELAY",
    "API_TIMEOUT",
    "SECRET_KEY",
)


@pytest.fixture(scope="module")
def api_env(pg_server, tmp_path_factory):
    with restored_environment(ENV_KEYS):
        sim = ApiSimulator(
            demo_dataset("small", 42).tables, ports=(0, 0), secret_key=SECRET_KEY, api_key=API_KEY
        ).start()
        os.environ.update(
            {
                "API_BASE_URLS": ",".join(sim.base_urls),
                "API_KEY": API_KEY,
                "API_RETRY_ATTEMPTS": "1",
                "API_RETRY_DELAY": "0.01",
                "API_TIMEOUT": "5",
                "SECRET_KEY": SECRET_KEY,
            }
        )
        os.environ.pop("AUTH_TOKEN", None)
        env = make_pipeline_env(pg_server, tmp_path_factory.mktemp("api_assets"))
        runner.run_reference(env.defs, env.instance)
        ingest = runner.run_projects(env.defs, env.instance, [PROJECT])
        assert ingest.succeeded == [PROJECT], ingest.failed
        env.sim = sim
        yield env
        sim.stop()
        env.instance.dispose()


def run_api(env, force_refresh: bool = False):
    job = env.defs.resolve_job_def(API_JOB_NAME)
    return job.execute_in_process(
        instance=env.instance,
        partition_key=PROJECT,
        raise_on_error=False,
        run_config={**runner.QUIET, **api_run_config(force_refresh)},
        tags=fail_fast_tags(),
    )


def check_result(result):
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) == 1
    return evaluations[0]


def event_log_text(env, run_id: str) -> str:
    return "\n".join(serialize_value(entry) for entry in env.instance.all_logs(run_id))


def test_api_assets_land_and_reconcile_cleanly(api_env):
    result = run_api(api_env)
    assert result.success
    api_env.ok_run_id = result.run_id  # its event log is checked for secrets below
    evaluation = check_result(result)
    assert evaluation.passed, evaluation.metadata
    meta = result.asset_materializations_for_node("api_reconciliation")[0].metadata
    expected = len(
        api_env.query("SELECT DISTINCT brand_id, metric_id, period FROM public.normalisedvalue WHERE project_id = 1")
    )
    assert meta["n_common_keys"].value == expected == 12
    assert meta["n_weights_compared"].value == 4
    landed = api_env.query(
        "SELECT brand_id, metric_id, period, normalized_value FROM dc_staging.api_normalized_values "
        "WHERE project_id = 1 ORDER BY 1, 2, 3"
    )
    source = api_env.query(
        "SELECT brand_id, metric_id, period, normalized_value FROM public.normalisedvalue "
        "WHERE project_id = 1 ORDER BY 1, 2, 3"
    )
    assert landed == source
    raw = api_env.query("SELECT path, sha256 FROM dc_staging.api_normalized_values_raw WHERE project_id = 1")
    assert [r[0] for r in raw] == ["/normalized/normalized_value"] and len(raw[0][1]) == 64
    pull_meta = result.asset_materializations_for_node("api_normalized_values")[0].metadata
    assert pull_meta["records_received"].value == 12 and pull_meta["records_quarantined"].value == 0
    assert pull_meta["api_requests"].value >= 1
    outcomes = api_env.query("SELECT count(*) FROM dc_staging.api_brand_outcomes WHERE project_id = 1")[0][0]
    assert outcomes == api_env.query("SELECT count(*) FROM public.business_outcomes WHERE project_id = 1")[0][0]
    # A second pull within CACHE_TIMEOUT is served from dc_staging.api_cache: no new HTTP request.
    served = len(api_env.sim.requests_to("/normalized/"))
    again = run_api(api_env)
    assert again.success and len(api_env.sim.requests_to("/normalized/")) == served
    assert again.asset_materializations_for_node("api_normalized_values")[0].metadata["api_cache_hits"].value == 1


def test_one_overridden_value_is_the_only_difference(api_env):
    row = api_env.query(
        "SELECT brand_id, metric_id, period, normalized_value FROM public.normalisedvalue "
        "WHERE project_id = 1 ORDER BY brand_id, metric_id LIMIT 1"
    )[0]
    brand_id, metric_id, period, value = row
    api_env.sim.set_value_override(1, brand_id, metric_id, period.isoformat(), value + 7.5)
    try:
        result = run_api(api_env, force_refresh=True)  # the cache would still serve the old body
    finally:
        api_env.sim.clear_value_overrides()
    assert result.success  # a WARN check does not fail the run
    evaluation = check_result(result)
    assert not evaluation.passed
    assert evaluation.metadata["n_value_differs"].value == 1
    assert evaluation.metadata["n_only_api"].value == 0 and evaluation.metadata["n_only_postgres"].value == 0
    assert evaluation.metadata["n_weight_differs"].value == 0
    examples = evaluation.metadata["examples"].value["value_differs"]
    assert examples == [f"b{brand_id} m{metric_id} {period:%Y-%m-%d}: api {value + 7.5:.4g} vs postgres {value:.4g}"]
    stored = api_env.query(
        "SELECT kind, brand_id, metric_id, period, abs_diff FROM dc_staging.api_reconciliation WHERE project_id = 1"
    )
    assert len(stored) == 1 and stored[0][:4] == ("value_differs", brand_id, metric_id, period)
    assert stored[0][4] == pytest.approx(7.5)


def test_quality_rules_k3_k4_use_the_landed_api_data(api_env):
    # The landed API values still hold the overridden value from the test above: K3 finds exactly it.
    summary = runner.run_projects(api_env.defs, api_env.instance, [PROJECT])
    assert summary.failed == {}
    rules = {
        r[0]: r[1:]
        for r in api_env.query(
            "SELECT rule_id, sum(units), sum(failed) FROM dc_dq.dq_rule_results WHERE project_id = 1 "
            "AND rule_id IN ('K3', 'K4') GROUP BY rule_id"
        )
    }
    assert rules["K3"][0] >= 12 and rules["K3"][1] == 1
    assert rules["K4"][0] >= 4 and rules["K4"][1] == 0


def test_outage_fails_api_asset_naming_service_but_ingest_still_runs(api_env):
    before = api_env.query("SELECT count(*), max(run_id) FROM dc_staging.api_normalized_values WHERE project_id = 1")[0]
    api_env.sim.faults.down_ports = set(api_env.sim.ports)
    try:
        result = run_api(api_env, force_refresh=True)
    finally:
        api_env.sim.faults.down_ports = set()
    assert not result.success
    failures = {e.step_key: e.step_failure_data.error.message for e in result.all_events if e.is_step_failure}
    assert "api_normalized_values" in failures
    message = failures["api_normalized_values"]
    assert (
        "Digi-Cadence service 'normalized'" in message and "GET /normalized/normalized_value?project_ids=1" in message
    )
    assert api_env.sim.base_urls[0] in message  # what each base URL answered
    assert "api_reconciliation" not in {
        m.asset_key.path[-1]
        for m in result.get_asset_materialization_events()
        for m in [m.event_specific_data.materialization]
    }
    # Nothing was overwritten, and the Postgres path does not need the API.
    assert (
        api_env.query("SELECT count(*), max(run_id) FROM dc_staging.api_normalized_values WHERE project_id = 1")[0]
        == before
    )
    api_env.sim.faults.down_ports = set(api_env.sim.ports)
    try:
        ingest = runner.run_projects(api_env.defs, api_env.instance, [PROJECT])
    finally:
        api_env.sim.faults.down_ports = set()
    assert ingest.succeeded == [PROJECT], ingest.failed


def test_no_secret_in_logs_metadata_or_errors_when_auth_fails(api_env, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_key = "wrong-api-key-0f0e0d0c"
    expired = api_env.sim.mint_token(ttl_s=-60)
    os.environ.update({"API_KEY": wrong_key, "AUTH_TOKEN": expired})
    try:
        result = run_api(api_env, force_refresh=True)
    finally:
        os.environ["API_KEY"] = API_KEY
        os.environ.pop("AUTH_TOKEN", None)
    assert not result.success
    messages = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    assert messages and all("ApiAuthError" in m or "401" in m for m in messages)
    ok_run_id = getattr(api_env, "ok_run_id", None) or run_api(api_env).run_id
    assert api_env.sim.tokens_issued > 0  # the successful run authenticated through /auth/token
    texts = {
        "captured logs": caplog.text,
        "failed run events": event_log_text(api_env, result.run_id),
        "ok run events": event_log_text(api_env, ok_run_id),
        "errors": "\n".join(messages),
    }
    for secret in (API_KEY, wrong_key, expired, SECRET_KEY, "Bearer ", "eyJleHAi"):
        for where, text in texts.items():
            assert secret not in text, f"{secret[:6]}... leaked into {where}"
    assert "api_normalized_values" in texts["failed run events"]  # the texts are the real ones


def test_api_pull_schedule_requests_one_run_per_active_project(api_env):
    from datetime import datetime

    import dagster as dg

    from dc_pipeline.defs.api.schedules import api_pull
    from dc_pipeline.defs.resources import PostgresResource

    when = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

    def evaluate():
        context = dg.build_schedule_context(
            instance=api_env.instance,
            scheduled_execution_time=when,
            resources={"source_db": PostgresResource(url=api_env.url)},
        )
        return api_pull(context)

    assert isinstance(evaluate(), dg.SkipReason)  # every demo project is completed
    with postgres.connect(api_env.url) as conn:
        conn.execute("UPDATE public.projects SET status = 'active' WHERE project_id IN (1, 101)")
        conn.commit()
    try:
        requests = evaluate()
    finally:
        with postgres.connect(api_env.url) as conn:
            conn.execute("UPDATE public.projects SET status = 'completed' WHERE project_id IN (1, 101)")
            conn.commit()
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("p1", "api_pull:p1:2025-01-06T09:00"),
        ("p101", "api_pull:p101:2025-01-06T09:00"),
    ]


def test_broken_body_is_retried_and_a_schema_violation_is_quarantined(api_env):
    """Issue 16 item 10 through Dagster: one malformed body costs a retry, not the pull; a record of
    the wrong shape is quarantined as invalid_record (a DQ failure) and the pull still succeeds."""
    faults = api_env.sim.faults

    def pull_with(kind: str):
        faults.update(fail_next_n=1, fail_kind=kind, fault_paths={"/normalized/"})
        try:
            result = run_api(api_env, force_refresh=True)
        finally:
            faults.update(fail_next_n=0, fail_kind="status", fault_paths=None)
        assert result.success
        return result.asset_materializations_for_node("api_normalized_values")[0].metadata

    broken = pull_with("malformed_json")
    assert broken["api_retries"].value == 1 and broken["records_quarantined"].value == 0
    assert broken["records_mapped"].value == 12

    violated = pull_with("schema_violation")
    assert violated["api_retries"].value == 0 and violated["records_received"].value == 12
    assert violated["records_mapped"].value == 11 and violated["quarantine_by_rule"].value == {"invalid_record": 1}
    stored = api_env.query(
        "SELECT rule_id, reason, row_key FROM dc_staging.api_normalized_values_quarantine WHERE project_id = 1"
    )
    assert stored == [("invalid_record", "schema: [0].metricname: Field required", {"record_index": 0})]
