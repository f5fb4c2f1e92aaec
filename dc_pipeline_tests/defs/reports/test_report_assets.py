"""The report assets and adhoc_report_job on the materialized demo (real instance, real Postgres): every built
report per project, its checks, partition health, a one-click link, and the ad-hoc path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.registry import BUILDER_MODULES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reports_run(demo_pipeline):
    # REPORTS_URL is a dg.EnvVar, resolved at each launch: it stays set while the module's runs happen.
    os.environ["REPORTS_URL"] = "http://127.0.0.1:3999"
    try:
        from dc_pipeline.definitions import build_definitions

        defs = build_definitions()
        summary = runner.run_projects(defs, demo_pipeline.instance, ["p101", "p3"], job_name="reports_job")
        yield demo_pipeline, defs, summary
    finally:
        os.environ.pop("REPORTS_URL", None)


def _latest_event(instance, asset: str, partition: str):
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1
    ).records
    return records[0].asset_materialization


def test_every_built_report_is_an_asset_with_its_inputs_as_deps(demo_pipeline):
    graph = demo_pipeline.defs.resolve_asset_graph()
    for report_id in BUILDER_MODULES:
        key = dg.AssetKey(f"report_{report_id}")
        parents = {k.to_user_string() for k in graph.get(key).parent_keys}
        assert {"dc_scores", "dq_results"} <= parents
        assert ("brand_forecasts" in parents) == ("forecasts" in REPORT_NEEDS[report_id])
        assert ("validated_outcomes" in parents) == ("outcomes" in REPORT_NEEDS[report_id])


def test_reports_job_publishes_every_report_with_a_link_and_its_health(reports_run):
    env, _, summary = reports_run
    assert summary.failed == {} or all("report_health" in reason for reason in summary.failed.values())
    for report_id in BUILDER_MODULES:
        meta = _latest_event(env.instance, f"report_{report_id}", "p101").metadata
        url = meta["report"].value
        assert url == f"http://127.0.0.1:3999/p101/{report_id}/latest.html"
        assert (env.reports_dir / "p101" / report_id / "latest.html").is_file()
        envelope = json.loads((env.reports_dir / "p101" / report_id / "latest.json").read_text())
        assert meta["health"].value == envelope["health"]["status"]
        assert isinstance(meta["confidence"].value, float) and meta["confidence"].value == round(
            envelope["data_context"]["confidence"]["value"], 3
        )


def test_a_run_sharing_reads_and_views_publishes_what_each_report_built_alone_would(reports_run):
    """The run's reports share their reads, cut inputs and views (envelopes._RUN_READS); each published envelope
    equals the one its report builds with nothing shared, and so do the data versions it records."""
    from dc_pipeline.adapters import postgres, readers
    from dc_pipeline.defs.reports.config import ReportConfig, report_params
    from dc_pipeline.defs.reports.envelopes import report_envelope
    from dc_pipeline.defs.resources import SettingsResource

    env, _, _ = reports_run
    system = SettingsResource().load()
    params = report_params(ReportConfig(), system)
    with postgres.connect(env.url) as conn:
        reference = readers.read_reference(conn)
        for project_id in (101, 3):
            for report_id in BUILDER_MODULES:
                alone, versions = report_envelope(conn, report_id, project_id, reference, params, system)
                published = json.loads((env.reports_dir / f"p{project_id}" / report_id / "latest.json").read_text())
                meta = published.pop("system_metadata")
                assert published == json.loads(json.dumps(alone)), (project_id, report_id)
                assert meta["input_data_versions"] == versions and versions, (project_id, report_id)


def test_health_is_visible_as_a_check(reports_run):
    env, _, _ = reports_run
    # p3 (TechCorp Q3) has no values: every report is FAIL, and the partition's health check says so as an error.
    evaluation = env.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("report_sectional_score_deep_dive"), "report_health")]
    )
    record = next(iter(evaluation.values()))
    check = record.event.dagster_event.event_specific_data
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "p3 FAIL" in check.metadata["reasons"].value
    citations = env.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("report_sectional_score_deep_dive"), "insights_cite_numbers")]
    )
    assert next(iter(citations.values())).event.dagster_event.event_specific_data.passed


def test_adhoc_job_scopes_brands_and_never_replaces_the_asset_pages(reports_run):
    env, defs, _ = reports_run
    before = (env.reports_dir / "p101" / "score_revenue_correlation" / "latest.json").read_text()
    brands = sorted(int(b) for (b,) in env.query("SELECT brand_id FROM public.project_brands WHERE project_id = 101"))
    config = {"report_ids": ["score_revenue_correlation"], "project_ids": [101], "brand_ids": brands[:2],
              "analysis_depth": "basic", "output_format": ["json"]}  # fmt: skip
    result = defs.resolve_job_def("adhoc_report_job").execute_in_process(
        instance=env.instance, run_config={"ops": {"build_adhoc_reports": {"config": config}}}
    )
    assert result.success
    files = list(Path(env.reports_dir, "adhoc", result.run_id).rglob("latest.json"))
    assert len(files) == 1 and not list(Path(env.reports_dir, "adhoc", result.run_id).rglob("*.html"))
    envelope = json.loads(files[0].read_text())
    assert envelope["data_context"]["brands_analyzed"] == brands[:2]
    assert envelope["system_metadata"]["parameters"]["analysis_depth"] == "basic"
    assert (env.reports_dir / "p101" / "score_revenue_correlation" / "latest.json").read_text() == before


def test_adhoc_job_names_an_unknown_report(reports_run):
    env, defs, _ = reports_run
    result = defs.resolve_job_def("adhoc_report_job").execute_in_process(
        instance=env.instance,
        run_config={"ops": {"build_adhoc_reports": {"config": {"report_ids": ["no_such_report"]}}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "no_such_report" in str(failure.step_failure_data.error.message) or "no_such_report" in str(
        failure.step_failure_data.user_failure_data.description
    )
