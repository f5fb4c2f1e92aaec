"""The dc_dq tables of one validation run, each row tagged with its project (the IO manager's partition column)."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.domain.partition_keys import project_key

# SPEC §5: each quarantined row keeps run_id (added by the IO manager with data_version), asset, partition,
# source, rule_id, severity, reason, row_key, row_payload and detected_at.
QUARANTINE_TABLE_COLUMNS = [
    "project_id",
    "asset",
    "partition",
    "source",
    "rule_id",
    "severity",
    "reason",
    "row_key",
    "row_payload",
    "detected_at",
]


def tagged(results, field: str) -> pd.DataFrame:
    """One assessment field over the run's projects, with project_id."""
    frames = [getattr(a, field).assign(project_id=pid) for pid, a in results]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def quarantine_table(
    results, asset_for_source: dict[str, str], detected_at: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The domain quarantine (source_table, rule_id, ...) in the dc_dq.quarantine layout."""
    frame = tagged(results, "quarantine")
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_TABLE_COLUMNS})
    frame = frame.rename(columns={"source_table": "source"})
    frame["asset"] = frame["source"].map(asset_for_source).fillna("validated_values")
    frame["partition"] = frame["project_id"].map(project_key)
    frame["detected_at"] = detected_at if detected_at is not None else pd.Timestamp.now(tz="UTC")
    return frame[QUARANTINE_TABLE_COLUMNS]


def dq_tables(results, asset_for_source: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {
        "dq_rule_results": tagged(results, "rule_results"),
        "dq_dimension_scores": tagged(results, "dimension_scores"),
        "dq_scores": tagged(results, "dq_scores"),
        "quarantine": quarantine_table(results, asset_for_source),
    }


def counts_by_rule(quarantine: pd.DataFrame) -> dict[str, int]:
    """Quarantined rows per `source/rule_id` (dc_dq.quarantine layout)."""
    if quarantine.empty:
        return {}
    counts = quarantine.groupby(["source", "rule_id"]).size()
    return {f"{source}/{rule}": int(n) for (source, rule), n in counts.items()}


def rows_by_project(frame: pd.DataFrame, project_ids) -> dict[int, pd.DataFrame]:
    """Each project's rows of a run frame (by its project_id column), split in one pass."""
    positions = frame.groupby("project_id", sort=False).indices if len(frame) else {}
    return {pid: frame.iloc[positions.get(pid, [])] for pid in project_ids}
