"""The code location loads: every asset, check, job and sensor resolves."""

import dagster as dg
import pytest

from dc_pipeline.definitions import build_definitions


def test_definitions_load_and_validate():
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    for name in (
        "reference_snapshot",
        "src_metrics",
        "src_normalised_values",
        "src_business_outcomes",
        "validated_values",
        "validated_outcomes",
        "validated_metrics",
        "dq_results",
        "dc_scores",
        "report_dc_score_performance_analysis",
        "digi_cadence/normalisedvalue",
    ):
        assert name in keys
    assert defs.resolve_job_def("ingest_job") is not None
    assert defs.resolve_sensor_def("source_change_sensor") is not None


def test_bad_configuration_fails_at_load_naming_the_key(tmp_path, monkeypatch):
    bad = tmp_path / "system_config.json"
    bad.write_text('{"scoring_config": {"score_method": "median"}, "unknown_section": {}}')
    monkeypatch.setenv("DC_CONFIG_PATH", str(bad))
    with pytest.raises(Exception) as info:
        build_definitions()
    message = str(info.value)
    assert "scoring_config.score_method" in message and "unknown_section" in message


RUNNING = """
import json
from dc_pipeline.definitions import defs
repo = defs.get_repository_def()
print(json.dumps(sorted(
    [s.name for s in repo.sensor_defs if s.default_status.value == "RUNNING"]
    + [s.name for s in repo.schedule_defs if s.default_status.value == "RUNNING"]
)))
"""


def _running(api_base_urls: str) -> list[str]:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "API_BASE_URLS": api_base_urls}
    out = subprocess.run([sys.executable, "-c", RUNNING], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_what_runs_by_itself_is_what_the_readme_says():
    from pathlib import Path

    with_api, without_api = _running("http://127.0.0.1:7000"), _running("")
    assert set(with_api) - set(without_api) == {"api_pull"}  # the API pull runs where an API is configured
    assert "default_automation_condition_sensor" in without_api and "source_change_sensor" in without_api
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## What runs by itself", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{name}`" in section for name in with_api), [n for n in with_api if f"`{n}`" not in section]


def test_demo_reports_stage_rebuilds_only_reports_reading_what_the_model_stages_wrote():
    """ingest_job publishes the reports reading only its own outputs; model_reports_job (the demo's last stage)
    holds every other report, and no report the model stages leave unchanged."""
    from dc_pipeline.domain.reports.catalog import REPORT_NEEDS

    defs = build_definitions()

    def reports(job: str) -> set[str]:
        keys = defs.resolve_job_def(job).asset_layer.executable_asset_keys
        return {k.path[-1].removeprefix("report_") for k in keys if k.path[-1].startswith("report_")}

    ingest, models, every = reports("ingest_job"), reports("model_reports_job"), reports("reports_job")
    assert ingest | models == every and len(every) == 25
    assert "sectional_score_deep_dive" in ingest - models  # scores and DQ only: not built twice
    # reads index robustness, which ingest_job computes and no later stage rewrites
    assert "dc_score_performance_analysis" in ingest - models
    late = {"outcome_models", "forecasts", "recommendations", "portfolio"}  # models_job leaves index robustness
    assert all(REPORT_NEEDS[r] & late for r in models) and not any(REPORT_NEEDS[r] & late for r in every - models)
