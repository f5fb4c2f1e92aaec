"""The Dagster side of a figure's lineage: the materializations that wrote a stored data version, found in the
instance's event log by the runs whose rows carry it (or, when no stored row does any more, by the per-table
`data_version` metadata the IO manager records)."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

# Materializations of an asset scanned for a version no stored row carries any more (newest first).
SCAN_LIMIT = 500


def _about_project(partition: str | None, project_id: int) -> bool:
    return partition is not None and f"p{project_id}" in str(partition).split("|")


def _row(entry, table: str) -> dict:
    m = entry.asset_materialization
    return {
        "run_id": entry.run_id,
        "partition": m.partition,
        "materialized_at": datetime.fromtimestamp(entry.timestamp, tz=UTC).isoformat(timespec="seconds"),
        "rows": m.metadata.get(f"rows/{table}").value if f"rows/{table}" in m.metadata else None,
    }


def version_materializations(
    instance: dg.DagsterInstance, asset: str, table: str, project_id: int, version: str, run_ids: list[str]
) -> list[dict]:
    """The materializations of `asset` for the project's partition(s) that wrote `version` of `table`."""
    key = dg.AssetKey(asset)
    found = []
    for run_id in run_ids:
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            m = entry.asset_materialization
            if m is not None and m.asset_key == key and _about_project(m.partition, project_id):
                found.append(_row(entry, table))
    if found or run_ids:
        return found
    records = instance.fetch_materializations(key, limit=SCAN_LIMIT).records
    for record in records:
        m = record.asset_materialization
        tagged = m.metadata.get(f"data_version/{table}") or m.metadata.get("data_version")
        if _about_project(m.partition, project_id) and tagged is not None and tagged.value == version:
            found.append(_row(record.event_log_entry, table))
    return found
