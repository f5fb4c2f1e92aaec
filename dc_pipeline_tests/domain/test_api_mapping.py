"""Name -> id mapping of API records, quarantine rules and the reconciliation arithmetic (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.api_mapping import map_normalized_records, map_weights, reconcile, single_period

BRANDS = pd.DataFrame({"brand_id": [1, 2], "brand_name": ["TechPhone", "TechLaptop"]})
METRICS = pd.DataFrame(
    {
        "metric_id": [10, 11, 12, 13],
        "project_id": [1, 1, 1, 2],
        "section_name": ["Marketplace", "Socialwatch", "Socialwatch", "Marketplace"],
        "platform_name": ["Amazon", "Instagram", "Instagram", "Amazon"],
        "metric_name": ["ratings", "reach", "reach", "ratings"],
        "weight": [1.0, 2.0, 2.0, 1.0],
    }
)
SNAPSHOT = {
    "project_id": 1,
    "period_grain": "quarter",
    "start_date": pd.Timestamp("2024-01-01"),
    "end_date": pd.Timestamp("2024-01-01"),
}
MONTHLY = {
    "project_id": 1,
    "period_grain": "month",
    "start_date": pd.Timestamp("2024-01-01"),
    "end_date": pd.Timestamp("2024-03-01"),
}


def records(rows):
    frame = pd.DataFrame(
        rows, columns=["brandName", "sectionName", "platformname", "metricname", "normalized", "period"]
    )
    frame["updated_at"] = None
    frame["record_index"] = range(len(frame))
    return frame


RECS = records(
    [
        ("TechPhone", "Marketplace", "Amazon", "ratings", 55.0, None),  # no period
        ("Nokia", "Marketplace", "Amazon", "ratings", 40.0, "2024-01-01"),  # unknown brand
        ("TechLaptop", "Marketplace", "Flipkart", "ratings", 41.0, "2024-01-01"),  # unknown metric
        ("TechLaptop", "Socialwatch", "Instagram", "reach", 42.0, "2024-01-01"),  # two definitions
        ("TechLaptop", "Marketplace", "Amazon", "ratings", 43.0, "2024-01-01"),
    ]
)


def test_single_period_project_gives_undated_records_its_period():
    mapped, quarantine = map_normalized_records(RECS, SNAPSHOT, BRANDS, METRICS)
    assert mapped[["brand_id", "metric_id", "normalized_value"]].values.tolist() == [[1, 10, 55.0], [2, 10, 43.0]]
    assert (mapped["period"] == pd.Timestamp("2024-01-01")).all()
    assert quarantine["rule_id"].tolist() == ["unknown_brand", "unknown_metric", "unknown_metric"]
    assert quarantine["row_key"].tolist()[0] == {"record_index": 1, "brandName": "Nokia"}
    assert "matches 2 metric definitions (11, 12)" in quarantine["reason"].iloc[2]
    assert single_period(SNAPSHOT)[0] == pd.Timestamp("2024-01-01")


def test_multi_period_project_quarantines_undated_records():
    mapped, quarantine = map_normalized_records(RECS, MONTHLY, BRANDS, METRICS)
    assert len(mapped) == 1 and mapped["normalized_value"].iloc[0] == 43.0
    missing = quarantine[quarantine["rule_id"] == "period_missing"]
    assert len(missing) == 1
    assert missing["reason"].iloc[0] == "record has no period and project 1 spans 3 periods (2024-01-01..2024-03-01)"
    assert missing["row_payload"].iloc[0]["normalized"] == 55.0


def test_weights_map_and_unknown_metric_is_quarantined():
    weights = pd.DataFrame(
        {
            "section": ["Marketplace", "Marketplace"],
            "platform": ["Amazon", "eBay"],
            "metric": ["ratings", "ratings"],
            "weight": [1.5, 1.0],
        }
    )
    mapped, quarantine = map_weights(weights, 1, METRICS)
    assert mapped[["metric_id", "weight"]].values.tolist() == [[10, 1.5]]
    assert quarantine["rule_id"].tolist() == ["unknown_metric"] and quarantine["row_key"].iloc[0]["platform"] == "eBay"


def test_reconcile_counts_each_kind_and_respects_tolerance():
    p = pd.Timestamp("2024-01-01")
    pg = pd.DataFrame(
        {
            "brand_id": [1, 1, 2, 2, 2],
            "metric_id": [10, 11, 10, 11, 11],
            "period": [p] * 5,
            "normalized_value": [50.0, 60.0, 70.0, 80.0, 80.0],
        }
    )  # (2, 11) duplicated exactly
    api = pd.DataFrame(
        {
            "brand_id": [1, 1, 2, 2, 3],
            "metric_id": [10, 11, 10, 11, 10],
            "period": [p] * 5,
            "normalized_value": [50.009, 60.5, 70.0, np.nan, 10.0],
        }
    )
    api_weights = pd.DataFrame({"metric_id": [10, 11], "weight": [1.0, 3.0]})
    result = reconcile(1, api, pg, api_weights, METRICS)
    diffs = result.differences
    assert result.count("value_differs") == 2  # 60 vs 60.5, and NaN vs 80 (50.009 is within 0.01)
    assert result.count("only_api") == 1 and result.count("only_postgres") == 0
    assert diffs.loc[diffs["kind"] == "weight_differs", "metric_id"].tolist() == [11]
    assert result.count("weight_only_postgres") == 1  # metric 12 has no API weight
    assert (result.n_api_keys, result.n_postgres_keys, result.n_common_keys) == (5, 4, 4)
    clean = reconcile(1, pg, pg, METRICS[METRICS.project_id == 1][["metric_id", "weight"]], METRICS)
    assert clean.clean
