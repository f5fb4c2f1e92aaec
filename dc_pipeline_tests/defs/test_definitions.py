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
