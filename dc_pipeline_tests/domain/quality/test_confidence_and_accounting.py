"""Pure quality helpers: DQ confidence carried to scores, and row accounting."""

from __future__ import annotations

import math

import pandas as pd

from dc_pipeline.domain.quality.accounting import account_for_rows
from dc_pipeline.domain.quality.confidence import dq_confidence, with_dq_confidence

DQ_SCORES = pd.DataFrame(
    {
        "project_id": [101, 101, 101, 102],
        "scope": ["project", "brand", "brand", "project"],
        "brand_id": pd.array([pd.NA, 11, 12, pd.NA], dtype="Int64"),
        "score": [0.9, 0.95, 0.55, 0.7],
        "band": ["excellent", "excellent", "poor", "acceptable"],
    }
)


def test_confidence_per_project_and_brand_falls_back_to_project():
    assert dq_confidence(DQ_SCORES) == {101: (0.9, "excellent"), 102: (0.7, "acceptable")}
    brands = pd.DataFrame(
        {
            "project_id": [101, 101, 101, 102, 103],
            "brand_id": [11, 12, 13, 11, 11],
            "dc_score": [80.0, 70.0, 75.0, 60.0, 50.0],
        }
    )
    out = with_dq_confidence(brands, DQ_SCORES)
    assert out["dq_score"].tolist()[:4] == [0.95, 0.55, 0.9, 0.7]
    assert out["dq_band"].tolist()[:4] == ["excellent", "poor", "excellent", "acceptable"]
    assert out["dq_scope"].tolist() == ["brand", "brand", "project", "project", None]
    assert (
        math.isnan(out["dq_score"].iloc[4])
        and out["dq_band"].iloc[4] is None
        and out["dc_score"].tolist() == brands["dc_score"].tolist()
    )


def _quarantine(ids):
    return pd.DataFrame({"source_table": ["normalisedvalue"] * len(ids), "row_key": [{"id": i} for i in ids]})


def test_accounting_names_rows_dropped_or_counted_twice():
    landed = pd.DataFrame({"id": [1, 2, 3, 4, 5]})
    ok = account_for_rows(landed, pd.DataFrame({"id": [1, 2, 3]}), _quarantine([4, 5]))
    assert ok["passed"] and ok["message"].startswith("3 validated + 2 quarantined = 5 of 5")
    dropped = account_for_rows(landed, pd.DataFrame({"id": [1, 2]}), _quarantine([4, 5]))
    assert not dropped["passed"] and dropped["missing_ids"] == [3] and dropped["n_extra"] == 0
    # Same count, wrong rows: 3 missing, 2 counted twice.
    swapped = account_for_rows(landed, pd.DataFrame({"id": [1, 2, 2]}), _quarantine([4, 5]))
    assert not swapped["passed"] and swapped["missing_ids"] == [3] and swapped["extra_ids"] == [2]


def test_accounting_counts_ids_as_a_multiset():
    """Ids landed twice must be kept twice; a quarantine-only or empty side still counts (the numpy difference)."""
    landed = pd.DataFrame({"id": [7, 7, 7, 9, 10]})
    twice = account_for_rows(landed, pd.DataFrame({"id": [7, 9]}), _quarantine([7, 11]))
    assert twice["missing_ids"] == [7, 10] and twice["extra_ids"] == [11] and not twice["passed"]
    nothing_kept = account_for_rows(landed, pd.DataFrame({"id": []}), _quarantine([]).iloc[0:0])
    assert nothing_kept["missing_ids"] == [7, 7, 7, 9, 10] and nothing_kept["n_extra"] == 0
    all_quarantined = account_for_rows(landed, pd.DataFrame(), _quarantine([10, 9, 7, 7, 7]))
    assert all_quarantined["passed"] and all_quarantined["missing_ids"] == []
