"""RunAssessment: the validated rows are the landed rows minus the quarantined ones, shared with the
landed frame where a project lost none, copied where it did; every project gets frames of its own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality import assess_run
from dc_pipeline.domain.settings import DqConfig
from dc_pipeline_tests.domain.quality import builders as b


def _run(values: pd.DataFrame):
    members = pd.concat([b.members(), b.members().assign(project_id=102)], ignore_index=True)
    metrics = pd.concat([b.metrics(), b.metrics().assign(project_id=102, metric_id=lambda m: m["metric_id"] + 1000)])
    projects = pd.DataFrame([b.project(), b.project(project_id=102)])
    return assess_run(projects, metrics, members, values, b.outcomes(), DqConfig(), b.AS_OF)


def _two_projects() -> pd.DataFrame:
    first = b.values()
    second = first.assign(project_id=102, metric_id=first["metric_id"] + 1000, id=first["id"] + 10_000)
    values = pd.concat([first, second], ignore_index=True)
    values.loc[len(first) + 3, "normalized_value"] = 140.0  # one V1 row in project 102 only
    return values


def test_a_project_without_quarantined_rows_shares_the_landed_columns():
    values = _two_projects()
    landed_ids = values["id"].to_numpy()
    (_, clean), (_, faulty) = _run(values).by_project()
    assert clean.quarantine.empty and len(clean.validated_values) == len(b.values())
    assert np.shares_memory(clean.validated_values["id"].to_numpy(), landed_ids)
    # project 102 lost its V1 row: its rows are a copy without it, in landed order
    assert faulty.quarantine["rule_id"].tolist() == ["V1"]
    assert not np.shares_memory(faulty.validated_values["id"].to_numpy(), landed_ids)
    expected = values[values["project_id"] == 102].drop(index=len(b.values()) + 3)["id"]
    assert faulty.validated_values["id"].tolist() == expected.tolist()
    assert list(faulty.validated_values.index) == list(range(len(expected)))


def test_run_validated_values_are_every_project_s_validated_rows_in_order():
    run = _run(_two_projects().sample(frac=1.0, random_state=3))  # projects' rows interleaved
    per_project = pd.concat([a.validated_values for _, a in run.by_project()], ignore_index=True)
    by_p = run.validated_values.iloc[np.argsort(run.validated_p, kind="stable")].reset_index(drop=True)
    pd.testing.assert_frame_equal(by_p, per_project)
    assert len(run.validated_values) == len(run.value_rows) - 1


def test_ids_given_as_floats_or_text_come_out_as_int64():
    values = b.values()
    as_int = _run(values).validated_values
    for typed in ({"brand_id": "float64", "metric_id": "float64"}, {"brand_id": str, "metric_id": str}):
        out = _run(values.astype(typed)).validated_values
        assert out["brand_id"].dtype == np.int64 and out["metric_id"].dtype == np.int64
        pd.testing.assert_frame_equal(out[["brand_id", "metric_id"]], as_int[["brand_id", "metric_id"]])


def test_each_project_gets_its_own_empty_quarantine():
    (_, first), (_, second) = _run(b.values()).by_project()
    first.quarantine["note"] = "added by a consumer"
    assert "note" not in second.quarantine
