"""Assemble quarantine rows: each input row once, under its first failing rule, naming the others."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.json_values import frame_records
from dc_pipeline.domain.quality.catalog import QUARANTINE_COLUMNS, RULES
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_values import RowFailures

VALUE_KEY_COLUMNS = ("id", "project_id", "brand_id", "metric_id", "period")
OUTCOME_KEY_COLUMNS = ("project_id", "brand_id", "period")
METRIC_KEY_COLUMNS = ("project_id", "metric_id")


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})


def _frame(source_table: str, rule_ids, reasons, rows: pd.DataFrame, key_columns) -> pd.DataFrame:
    payloads = frame_records(rows, non_finite="text")
    keys = [{k: p.get(k) for k in key_columns if k in p} for p in payloads]
    return pd.DataFrame(
        {
            "source_table": source_table,
            "rule_id": list(rule_ids),
            "severity": [RULES[r].severity for r in rule_ids],
            "reason": list(reasons),
            "row_key": keys,
            "row_payload": payloads,
        },
        columns=list(QUARANTINE_COLUMNS),
    )


def value_quarantine(
    landed: pd.DataFrame, failures: dict[str, RowFailures], order: tuple[str, ...]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Returns (quarantined mask over landed rows, quarantine rows)."""
    any_failed = np.zeros(len(landed), bool)
    for rule in order:
        any_failed |= failures[rule].mask
    positions = np.flatnonzero(any_failed)
    if positions.size == 0:
        return any_failed, empty_quarantine()
    primary = pd.Series(None, index=positions, dtype=object)
    reason = pd.Series(None, index=positions, dtype=object)
    also = pd.Series("", index=positions, dtype=object)
    for rule in order:
        failed_here = failures[rule].mask[positions]
        first = failed_here & primary.isna().to_numpy()
        later = failed_here & ~first
        primary[first] = rule
        reason[first] = failures[rule].reasons.reindex(positions[first]).to_numpy()
        also[later] = also[later] + np.where(also[later] == "", "", ", ") + rule
    reason = reason.where(also == "", reason + "; also broke " + also)
    rows = landed.iloc[positions]
    return any_failed, _frame("normalisedvalue", primary.tolist(), reason.tolist(), rows, VALUE_KEY_COLUMNS)


def outcome_quarantine(landed_outcomes: pd.DataFrame, failed_rows: pd.DataFrame) -> pd.DataFrame:
    if failed_rows.empty:
        return empty_quarantine()
    rows = landed_outcomes.iloc[failed_rows["pos"].to_numpy()]
    return _frame("business_outcomes", ["V5"] * len(rows), failed_rows["reason"].tolist(), rows, OUTCOME_KEY_COLUMNS)


def metric_quarantine(metrics_table: pd.DataFrame, original_columns) -> pd.DataFrame:
    """Metric definitions excluded by V4 or U2 (their value rows are quarantined separately)."""
    bad = metrics_table[metrics_table["v4_reason"].notna() | metrics_table["u2_reason"].notna()]
    if bad.empty:
        return empty_quarantine()
    rule_ids = np.where(bad["v4_reason"].notna(), "V4", "U2")
    reasons = np.where(
        bad["v4_reason"].notna(),
        "invalid_metric_definition: " + bad["v4_reason"].astype(str),
        "duplicate_metric_definition: " + bad["u2_reason"].astype(str),
    )
    both = bad["v4_reason"].notna() & bad["u2_reason"].notna()
    reasons = np.where(both, reasons + "; also broke U2", reasons)
    columns = [c for c in original_columns if c in bad]
    return _frame("metrics", rule_ids.tolist(), reasons.tolist(), bad[columns], METRIC_KEY_COLUMNS)
