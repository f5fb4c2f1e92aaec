"""validate_project on a real Postgres and Dagster instance: quarantine, accounting, blocking (SPEC §5)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from dc_pipeline import runner
from dc_pipeline.adapters import postgres

FAULTY, CLEAN, CORRUPTED = "p104", "p101", "p102"


def planted(env) -> dict:
    (faults,) = env.query("SELECT planted_faults FROM dc_ops.demo_load")[0]
    return faults if isinstance(faults, dict) else json.loads(faults)


def latest_materialization(env, asset: str, key: str):
    records = env.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[key]), limit=1
    ).records
    return records[0].asset_materialization if records else None


def latest_check(env, check: str, asset: str = "validated_values"):
    record = env.instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey(asset), check)]
    )[dg.AssetCheckKey(dg.AssetKey(asset), check)]
    return record.event.dagster_event.event_specific_data


def test_faulty_project_quarantines_planted_counts_and_accounts_for_every_row(dq_env):
    faults = planted(dq_env)
    assert f"p{faults['project_id']}" == FAULTY
    summary = runner.run_projects(dq_env.defs, dq_env.instance, [FAULTY], job_name="dq_and_scores_job")
    assert summary.failed == {}, summary.failed
    pid = faults["project_id"]
    by_rule = dict(
        dq_env.query(
            "SELECT rule_id, count(*) FROM dc_dq.quarantine WHERE project_id = %s AND source = 'normalisedvalue' "
            "GROUP BY rule_id",
            (pid,),
        )
    )
    f = faults["faults"]
    assert by_rule.get("V1") == f["out_of_range_values"]["count"]
    assert by_rule.get("V2") == f["unknown_metric_rows"]["count"]
    assert by_rule.get("U1") == f["duplicate_exact"]["count"] + 2 * f["duplicate_conflict"]["count"]
    assert dict(
        dq_env.query(
            "SELECT rule_id, count(*) FROM dc_dq.quarantine WHERE project_id = %s "
            "AND source = 'business_outcomes' GROUP BY rule_id",
            (pid,),
        )
    ) == {"V5": f["negative_revenue"]["count"]}
    (landed, validated, quarantined) = dq_env.query(
        "SELECT (SELECT count(*) FROM public.normalisedvalue WHERE project_id = %(p)s), "
        "(SELECT count(*) FROM dc_core.validated_values WHERE project_id = %(p)s), "
        "(SELECT count(*) FROM dc_dq.quarantine WHERE project_id = %(p)s AND source = 'normalisedvalue')",
        {"p": pid},
    )[0]
    assert validated + quarantined == landed == faults["rows"]
    assert quarantined == faults["expected_quarantined_rows"]
    # Every quarantined row carries the SPEC §5 provenance columns.
    row = dq_env.query(
        "SELECT run_id, asset, partition, source, rule_id, severity, reason, row_key, row_payload, "
        "detected_at FROM dc_dq.quarantine WHERE project_id = %s AND rule_id = 'V1' LIMIT 1",
        (pid,),
    )[0]
    run_id, asset, partition, source, rule_id, severity, reason, row_key, payload, detected_at = row
    assert run_id and asset == "validated_values" and partition == FAULTY and source == "normalisedvalue"
    assert severity == "ERROR" and reason and detected_at is not None
    assert row_key["id"] == payload["id"] and not 0 <= float(payload["normalized_value"]) <= 100
    # The materialization shows the score, band and quarantine counts; the accounting check passed.
    meta = latest_materialization(dq_env, "validated_values", FAULTY).metadata
    assert meta[f"dq_band/{FAULTY}"].value in ("excellent", "acceptable", "poor")
    assert meta["quarantined_by_rule"].value["normalisedvalue/V1"] == f["out_of_range_values"]["count"]
    assert latest_check(dq_env, "every_row_accounted_for").passed
    (dq_score,) = dq_env.query("SELECT score FROM dc_dq.dq_scores WHERE project_id = %s AND scope = 'project'", (pid,))[
        0
    ]
    assert meta[f"dq_score/{FAULTY}"].value == pytest.approx(dq_score, abs=1e-4)
    assert dq_score < 1.0


def test_blocking_failure_stops_dc_scores_for_that_partition_only(dq_env):
    pid = int(CORRUPTED[1:])
    with_ids = dq_env.query("SELECT count(*) FROM public.normalisedvalue WHERE project_id = %s", (pid,))[0][0]
    with postgres.connect(dq_env.url) as conn:
        # 1 row in 7 pushed out of [0, 100]: V1 quarantines ~14 % > quarantine_max_fraction 10 %.
        corrupted = [
            r[0]
            for r in conn.execute(
                "UPDATE public.normalisedvalue SET normalized_value = 150 WHERE project_id = %s AND id %% 7 = 0 "
                "RETURNING id",
                (pid,),
            ).fetchall()
        ]
        conn.commit()
    assert len(corrupted) / with_ids > 0.10

    job = dq_env.defs.resolve_job_def("dq_and_scores_job")
    results = {
        key: job.execute_in_process(
            instance=dq_env.instance, partition_key=key, run_config=runner.QUIET, raise_on_error=False
        )
        for key in (CORRUPTED, CLEAN)
    }
    assert not results[CORRUPTED].success and results[CLEAN].success
    events = results[CORRUPTED].all_events
    assert {e.step_key for e in events if e.is_step_failure} == {"validate_project"}
    assert "dc_scores" not in {e.step_key for e in events if e.event_type_value == "STEP_START"}
    assert latest_materialization(dq_env, "dc_scores", CORRUPTED) is None
    assert latest_materialization(dq_env, "dc_scores", CLEAN) is not None
    assert dq_env.query("SELECT count(*) FROM dc_core.dc_scores WHERE project_id = %s", (pid,))[0][0] == 0
    # The rejected rows are still kept, each under the rule it broke.
    assert dq_env.query("SELECT count(*) FROM dc_dq.quarantine WHERE project_id = %s AND rule_id = 'V1'", (pid,))[0][
        0
    ] == len(corrupted)

    evaluations = {e.check_name: e for e in results[CORRUPTED].get_asset_check_evaluations()}
    assert {name for name, e in evaluations.items() if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR} == {
        "quarantine_share_within_limit"
    }
    evaluation = evaluations["quarantine_share_within_limit"]
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    meta = evaluation.metadata
    assert meta["projects_failed"].value == CORRUPTED
    assert meta["quarantined_rows_of_failed_projects"].value == len(corrupted)
    named = meta["rows"].value[CORRUPTED]
    assert named and all(r["rule_id"] == "V1" and r["row_key"]["id"] in corrupted for r in named)
    assert f"{len(corrupted)} of {with_ids} landed value rows quarantined" in meta["messages"].value
