"""One test per SPEC §5 rule: a tiny clean project broken in exactly one way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.quality import assess_project, band_of
from dc_pipeline.domain.settings import DqConfig
from dc_pipeline_tests.domain.quality import builders as b


def run(values=None, outcomes=None, metrics=None, project=None, config=None, as_of=b.AS_OF, **kwargs):
    return assess_project(
        project if project is not None else b.project(),
        metrics if metrics is not None else b.metrics(),
        b.members(),
        values if values is not None else b.values(),
        outcomes if outcomes is not None else b.outcomes(),
        config or DqConfig(),
        as_of,
        **kwargs,
    )


def totals(assessment, rule_id: str) -> dict:
    rows = assessment.rule_results[assessment.rule_results["rule_id"] == rule_id]
    return {
        "units": int(rows["units"].sum()),
        "failed": int(rows["failed"].sum()),
        "message": " | ".join(rows["message"]),
    }


def dim(assessment, dimension: str, brand_id=None) -> float:
    d = assessment.dimension_scores
    scope = d["scope"] == ("project" if brand_id is None else "brand")
    if brand_id is not None:
        scope &= (d["brand_id"] == brand_id).fillna(False)
    return float(d.loc[scope & (d["dimension"] == dimension), "score"].iloc[0])


def quarantined(assessment, rule_id: str, table: str = "normalisedvalue") -> pd.DataFrame:
    q = assessment.quarantine
    return q[(q["rule_id"] == rule_id) & (q["source_table"] == table)]


def assert_rows_conserved(assessment, landed: pd.DataFrame):
    n_q = int((assessment.quarantine["source_table"] == "normalisedvalue").sum())
    assert len(assessment.validated_values) + n_q == len(landed)


def test_clean_project_is_excellent_and_keeps_every_row():
    a = run()
    assert a.project_score >= 0.8 and a.project_score == pytest.approx(1.0)
    assert set(a.dq_scores["band"]) == {"excellent"}
    assert a.quarantine.empty and len(a.validated_values) == len(b.values())
    assert not a.is_blocked
    assert set(a.dimension_scores["dimension"]) == {
        "completeness",
        "validity",
        "uniqueness",
        "timeliness",
        "consistency",
        "volume",
    }


def test_c1_missing_cells_lower_completeness():
    values = b.values().drop(index=[0, 1, 2])
    a = run(values)
    assert totals(a, "C1")["failed"] == 3 and totals(a, "C1")["units"] == 96
    assert dim(a, "completeness") < 1.0 and dim(a, "validity") == 1.0
    assert a.quarantine.empty


def test_c2_null_required_outcome():
    outcomes = b.outcomes()
    outcomes.loc[[0, 5], "revenue"] = np.nan
    a = run(outcomes=outcomes)
    assert totals(a, "C2")["failed"] == 2 and totals(a, "C2")["units"] == 48
    assert "brand_equity_index 12/12" in totals(a, "C2")["message"]
    assert dim(a, "completeness") < 1.0


def test_v1_out_of_range_non_numeric_and_inf_are_quarantined():
    values = b.values().astype({"normalized_value": object})
    values.loc[[3, 4, 5, 6], "normalized_value"] = [104.2, -3.0, "abc", np.inf]
    a = run(values)
    assert totals(a, "V1")["failed"] == 4
    q = quarantined(a, "V1")
    assert len(q) == 4
    assert sorted(r.split(":")[0] for r in q["reason"]) == [
        "value_not_finite",
        "value_not_numeric",
        "value_out_of_range",
        "value_out_of_range",
    ]
    assert {p["normalized_value"] for p in q["row_payload"]} == {104.2, -3.0, "abc", "inf"}
    assert dim(a, "validity") < 1.0
    assert totals(a, "C1")["failed"] == 4  # a quarantined row leaves its cell missing
    assert_rows_conserved(a, values)


def test_v2_unknown_metric_rows_are_quarantined():
    values = b.values()
    extra = values.iloc[:2].assign(metric_id=9999, id=[5001, 5002])
    a = run(pd.concat([values, extra]))
    assert totals(a, "V2")["failed"] == 2
    assert len(quarantined(a, "V2")) == 2
    assert all(r.startswith("unknown_metric") for r in quarantined(a, "V2")["reason"])
    assert dim(a, "validity") < 1.0


def test_v2_names_metric_of_another_project():
    values = b.values()
    extra = values.iloc[:1].assign(metric_id=7, id=5001)
    a = run(pd.concat([values, extra]), metric_owners={7: 102, 1001: 101})
    reason = quarantined(a, "V2")["reason"].iloc[0]
    assert reason == "metric_of_other_project: metric_id 7 belongs to project 102, not to project 101"


def test_v3_non_member_brand_bad_period_and_outside_dates():
    values = b.values()
    extra = values.iloc[:3].assign(
        id=[5001, 5002, 5003],
        brand_id=[99, 11, 11],
        period=[b.PERIODS[0], pd.Timestamp("2023-03-15"), pd.Timestamp("2024-01-01")],
    )
    a = run(pd.concat([values, extra]))
    assert totals(a, "V3")["failed"] == 3
    codes = sorted(r.split(":")[0] for r in quarantined(a, "V3")["reason"])
    assert codes == ["non_member_brand", "period_not_period_start", "period_outside_project"]
    assert dim(a, "validity") < 1.0


def test_v4_invalid_metric_is_excluded_and_its_rows_quarantined():
    metrics = b.metrics()
    metrics.loc[metrics["metric_id"] == 1003, "effort_cost"] = 0.0
    a = run(metrics=metrics)
    assert totals(a, "V4") == {**totals(a, "V4"), "failed": 1, "units": 8}
    assert len(quarantined(a, "V4")) == 12
    assert len(quarantined(a, "V4", "metrics")) == 1
    assert 1003 not in set(a.usable_metrics["metric_id"])
    assert totals(a, "C1")["units"] == 84  # 7 usable metrics x 2 brands x 6 periods
    assert dim(a, "validity") < 1.0


def test_v5_negative_revenue_is_nulled_and_quarantined():
    outcomes = b.outcomes()
    outcomes.loc[[1, 7], "revenue"] = -1200.0
    a = run(outcomes=outcomes)
    assert totals(a, "V5")["failed"] == 2
    q = quarantined(a, "V5", "business_outcomes")
    assert len(q) == 2 and all("revenue -1200.0" in r for r in q["reason"])
    assert a.validated_outcomes.loc[[1, 7], "revenue"].isna().all()
    assert totals(a, "C2")["failed"] == 2  # the nulled cell is missing
    assert dim(a, "validity") < 1.0


def test_u1_exact_duplicates_keep_lowest_id():
    values = b.values()
    dupes = values.iloc[[10, 20]].assign(id=[6001, 6002])
    a = run(pd.concat([values, dupes]))
    assert totals(a, "U1")["failed"] == 2
    q = quarantined(a, "U1")
    assert sorted(k["id"] for k in q["row_key"]) == [6001, 6002]
    assert all(r.startswith("duplicate_exact") for r in q["reason"])
    assert totals(a, "C1")["failed"] == 0
    assert dim(a, "uniqueness") < 1.0


def test_u1_conflicting_duplicates_quarantine_the_whole_key():
    values = b.values()
    conflict = values.iloc[[10]].assign(id=6001, normalized_value=values.iloc[10]["normalized_value"] + 1)
    a = run(pd.concat([values, conflict]))
    q = quarantined(a, "U1")
    assert len(q) == 2 and all(r.startswith("duplicate_conflict") for r in q["reason"])
    assert totals(a, "C1")["failed"] == 1
    assert_rows_conserved(a, pd.concat([values, conflict]))


def test_u2_duplicate_metric_definition():
    metrics = b.metrics()
    copy = metrics.iloc[[0]].assign(metric_id=1099)
    values = b.values()
    extra = values.iloc[:2].assign(metric_id=1099, id=[5001, 5002])
    a = run(pd.concat([values, extra]), metrics=pd.concat([metrics, copy]))
    assert totals(a, "U2")["failed"] == 1
    assert len(quarantined(a, "U2")) == 2
    assert dim(a, "uniqueness") < 1.0


def test_t1_brand_missing_last_two_periods():
    values = b.values()
    late = (values["brand_id"] == 12) & (values["period"] >= b.PERIODS[-2])
    a = run(values[~late])
    assert totals(a, "T1")["failed"] == 1
    t1 = a.rule_results[a.rule_results["rule_id"] == "T1"]
    assert t1.loc[t1["brand_id"] == 12, "failed"].item() == 1
    assert totals(a, "C1")["failed"] == 16
    assert dim(a, "timeliness", 12) == 0.0 and dim(a, "timeliness", 11) == 1.0


def test_t1_active_project_lagging_beyond_allowance():
    project = b.project(status="active", end_date=None)
    a = run(project=project, as_of=pd.Timestamp("2023-10-05"))  # expected 2023-09, lag 1 -> need 2023-08
    assert totals(a, "T1")["failed"] == 2
    assert (
        run(project=project, as_of=pd.Timestamp("2023-08-05")).rule_results.pipe(
            lambda r: r.loc[r["rule_id"] == "T1", "failed"].sum()
        )
        == 0
    )


def test_t2_stale_active_project():
    project = b.project(status="active", end_date=None)
    values, outcomes = b.values(), b.outcomes()
    values["updated_at"] = pd.Timestamp("2023-04-01")
    outcomes["updated_at"] = pd.Timestamp("2023-04-01")
    a = run(values, outcomes, project=project)
    assert totals(a, "T2") == {**totals(a, "T2"), "units": 1, "failed": 1}
    assert "100.0 days" in totals(a, "T2")["message"]
    fresh = run(project=project)
    assert totals(fresh, "T2")["failed"] == 0 and totals(fresh, "T2")["units"] == 1


def test_k1_section_label_disagrees_for_one_metric():
    values = b.values()
    values.loc[values["metric_id"] == 1001, "section"] = "Socialwatch"
    a = run(values)
    assert totals(a, "K1")["failed"] == 12
    assert dim(a, "consistency") < 1.0 and a.quarantine.empty


def test_k2_jump_of_fifty_points():
    values = b.values()
    last = (values["brand_id"] == 11) & (values["metric_id"] == 1001) & (values["period"] == b.PERIODS[-1])
    values.loc[last, "normalized_value"] = values.loc[last, "normalized_value"] - 50
    a = run(values)
    assert totals(a, "K2")["failed"] == 1
    assert dim(a, "consistency", 11) < 1.0 and dim(a, "consistency", 12) == 1.0


def test_k3_api_disagreement_and_unavailable():
    values = b.values()
    api = values[["brand_id", "metric_id", "period", "normalized_value"]].copy()
    api.loc[[0, 1, 2], "normalized_value"] += 0.5
    a = run(values, api_values=api)
    assert totals(a, "K3")["failed"] == 3 and totals(a, "K3")["units"] == 96
    outcomes = b.outcomes()
    api_out = outcomes[["brand_id", "period", "revenue"]].assign(revenue=outcomes["revenue"] * 1.01)
    assert totals(run(api_outcomes=api_out), "K3")["failed"] == 12
    missing = totals(run(), "K3")
    assert missing["units"] == 0 and "API reconciliation unavailable" in missing["message"]


def test_k4_api_weight_and_metric_type_disagreement():
    metrics = b.metrics()
    api_weights = metrics[["metric_id", "weight"]].assign(
        weight=np.where(metrics["metric_id"] == 1002, 9.0, metrics["weight"])
    )
    other = metrics.iloc[[0]].assign(project_id=102, metric_id=2001, metric_type="minimize")
    a = run(api_weights=api_weights, other_project_metrics=other)
    assert totals(a, "K4")["failed"] == 2 and totals(a, "K4")["units"] == 9
    assert dim(a, "consistency") < 1.0


def test_k5_market_shares_above_100():
    outcomes = b.outcomes()
    outcomes.loc[outcomes["period"] == b.PERIODS[2], "market_share"] = [60.0, 50.0]
    a = run(outcomes=outcomes)
    assert totals(a, "K5")["failed"] == 1 and totals(a, "K5")["units"] == 6
    assert dim(a, "consistency") < 1.0


def test_w1_volume_against_previous_run_and_first_run():
    a = run(previous_row_count=200)
    assert totals(a, "W1")["failed"] == 1 and "-52.0%" in totals(a, "W1")["message"]
    assert totals(run(previous_row_count=90), "W1")["failed"] == 0
    thin = b.values().iloc[::3]
    assert totals(run(thin), "W1")["failed"] == 1
    assert dim(run(thin), "volume") < 1.0


def test_w2_brand_period_missing_a_section_counts_only_for_that_brand():
    values = b.values()
    m = b.metrics().set_index("metric_id")["section_name"]
    gap = (
        (values["brand_id"] == 11) & (values["period"] == b.PERIODS[1]) & (values["metric_id"].map(m) == "Socialwatch")
    )
    a = run(values[~gap])
    w2 = a.rule_results[a.rule_results["rule_id"] == "W2"]
    assert w2.loc[w2["brand_id"] == 11, "failed"].item() == 1
    assert w2.loc[w2["brand_id"] == 12, "failed"].item() == 0
    assert dim(a, "volume", 11) < 1.0 and dim(a, "volume", 12) == 1.0


def test_row_breaking_several_rules_is_quarantined_once():
    values = b.values()
    bad = values.iloc[[0]].assign(id=7001, metric_id=9999, brand_id=99, normalized_value=150.0)
    a = run(pd.concat([values, bad]))
    q = a.quarantine[a.quarantine["source_table"] == "normalisedvalue"]
    assert len(q) == 1 and q["rule_id"].item() == "V1"
    assert q["reason"].item().endswith("also broke V2, V3")
    assert totals(a, "V2")["failed"] == 1 and totals(a, "V3")["failed"] == 1


def test_blocking_quarantine_share_above_limit():
    values = b.values().astype({"normalized_value": "float64"})
    values.loc[values.index[:15], "normalized_value"] = 120.0
    a = run(values)
    checks = {c["check"]: c for c in a.blocking}
    assert checks["clean_set_has_no_v1_v2_u1_violations"]["passed"]
    assert not checks["quarantine_share_within_limit"]["passed"]
    assert "15 of 96" in checks["quarantine_share_within_limit"]["message"]
    assert len(checks["quarantine_share_within_limit"]["rows"]) == 5
    assert a.is_blocked


def test_empty_project_scores_poor_but_defined():
    a = run(b.values().iloc[:0], b.outcomes().iloc[:0])
    assert 0.0 <= a.project_score < 0.6 and band_of(a.project_score) == "poor"
    assert totals(a, "C1")["failed"] == 96 and totals(a, "W1")["failed"] == 1


@pytest.mark.parametrize(
    "score, band", [(0.8, "excellent"), (0.79, "acceptable"), (0.6, "acceptable"), (0.59, "poor"), (float("nan"), None)]
)
def test_band_of(score, band):
    assert band_of(score) == band


def test_dimension_weights_change_the_dq_score():
    values = b.values().drop(index=range(40))
    equal = run(values).project_score
    heavy = run(
        values,
        config=DqConfig(
            dimension_weights={
                "completeness": 5.0,
                "validity": 1,
                "uniqueness": 1,
                "timeliness": 1,
                "consistency": 1,
                "volume": 1,
            }
        ),
    )
    assert heavy.project_score < equal


def test_quarantine_payloads_are_strict_json():
    import json

    values = b.values().astype({"normalized_value": object})
    values.loc[[3, 4], "normalized_value"] = [np.nan, -np.inf]
    a = run(values)
    for key, payload in zip(a.quarantine["row_key"], a.quarantine["row_payload"]):
        json.dumps({"key": key, "payload": payload}, allow_nan=False)
    assert {p["normalized_value"] for p in a.quarantine["row_payload"]} == {"NaN", "-inf"}


def test_clean_set_check_fails_on_a_leaked_violation():
    from dc_pipeline.domain.quality.blocking import blocking_checks

    a = run()
    clean = a.validated_values
    # Row 0 leaks twice: once into the clean set, once quarantined (not kept, so not a violation).
    rows = pd.concat([clean, clean.iloc[[0]], clean.iloc[[0]]], ignore_index=True)
    keep = np.ones(len(rows), bool)
    keep[-1] = False
    duplicated = np.zeros(len(rows), bool)
    duplicated[keep] = rows[keep].duplicated(["brand_id", "metric_id", "period"], keep=False).to_numpy()
    checks = blocking_checks(
        rows,
        keep,
        np.zeros(int(keep.sum()), dtype="int64"),
        rows["metric_id"].isin(a.usable_metrics["metric_id"]).to_numpy(),
        duplicated,
        a.quarantine.assign(p=0),
        np.array([len(rows)]),
        DqConfig(),
    )[0]
    assert not checks[0]["passed"] and "2 U1 violations" in checks[0]["message"]
    assert [r["id"] for r in checks[0]["rows"]] == [clean["id"].iloc[0]] * 2


def test_duplicated_rows_marks_every_row_of_a_repeated_key():
    from dc_pipeline.domain.quality.blocking import duplicated_rows

    keys = np.array([5, 3, 5, 7, 3, 5])
    order = np.argsort(keys, kind="stable")
    same = np.r_[False, keys[order][1:] == keys[order][:-1]]
    assert duplicated_rows(order, same, keys.size).tolist() == [True, True, True, False, True, True]
