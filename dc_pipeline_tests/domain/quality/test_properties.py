"""Arbitrary landed frames never crash the assessment, keep scores in [0, 1] and conserve rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dc_pipeline.domain.quality import assess_project
from dc_pipeline.domain.settings import DqConfig
from dc_pipeline_tests.domain.quality import builders as b

cell_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(1e308),
    st.floats(0, 100),
    st.text(max_size=4),
    st.none(),
    st.integers(-(10**6), 10**6),
)
period = st.one_of(
    st.sampled_from(list(b.PERIODS)),
    st.just(pd.Timestamp("2023-02-14")),
    st.just(pd.Timestamp("1999-01-01")),
    st.none(),
)
row = st.fixed_dictionaries(
    {
        "id": st.integers(1, 30),
        "brand_id": st.sampled_from([11, 12, 13]),
        "metric_id": st.sampled_from([1001, 1002, 1005, 1008, 4242]),
        "period": period,
        "normalized_value": cell_value,
        "section": st.sampled_from([None, "Marketplace", "Socialwatch", ""]),
        "updated_at": st.just(pd.Timestamp("2023-07-01")),
    }
)
outcome_row = st.fixed_dictionaries(
    {
        "project_id": st.just(b.PROJECT_ID),
        "brand_id": st.sampled_from([11, 12]),
        "period": period,
        "revenue": cell_value,
        "market_share": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none()),
        "bestseller_rank": st.one_of(st.integers(-3, 50), st.none()),
    }
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row, max_size=25),
    outcome_rows=st.lists(outcome_row, max_size=6),
    duplicate_all=st.booleans(),
    active=st.booleans(),
)
def test_arbitrary_frames_assess_without_crash(rows, outcome_rows, duplicate_all, active):
    values = pd.DataFrame(
        rows, columns=["id", "brand_id", "metric_id", "period", "normalized_value", "section", "updated_at"]
    )
    values["project_id"] = b.PROJECT_ID
    if duplicate_all:
        values = pd.concat([values, values])
    outcomes = pd.DataFrame(
        outcome_rows, columns=["project_id", "brand_id", "period", "revenue", "market_share", "bestseller_rank"]
    )
    project = b.project(status="active", end_date=None) if active else b.project()
    a = assess_project(
        project, b.metrics(), b.members(), values, outcomes, DqConfig(), b.AS_OF, api_values=values.head(3)
    )
    n_quarantined = int((a.quarantine["source_table"] == "normalisedvalue").sum())
    assert len(a.validated_values) + n_quarantined == len(values)
    for frame in (a.dimension_scores, a.dq_scores):
        assert frame["score"].between(0, 1).all()
    assert (a.rule_results["passed"] + a.rule_results["failed"] == a.rule_results["units"]).all()
    assert (a.rule_results["failed"] >= 0).all()
    clean = a.validated_values["normalized_value"].to_numpy(dtype="float64")
    assert np.isfinite(clean).all() and ((clean >= 0) & (clean <= 100)).all()
    assert not a.validated_values.duplicated(["brand_id", "metric_id", "period"]).any()
    assert a.blocking[0]["passed"]


def test_frames_without_rows_or_columns():
    a = assess_project(
        b.project(), b.metrics().iloc[:0], b.members().iloc[:0], pd.DataFrame(), pd.DataFrame(), DqConfig(), b.AS_OF
    )
    assert a.validated_values.empty and a.quarantine.empty
    assert a.dq_scores["score"].between(0, 1).all() and len(a.dq_scores) == 1
