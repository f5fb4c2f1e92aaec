"""Which projects changed between two snapshots of source-table change markers.

A marker is `[max(updated_at), count]` per table and project (`'*'` for whole reference tables).
A project changed when any of its markers differs, or it is new; deletions show as count changes.
"""

from __future__ import annotations

PROJECT_TABLES = ("normalisedvalue", "business_outcomes", "metrics", "project_brands")
REFERENCE_TABLES = ("projects", "brands", "categories")
# Metadata key under which a source pull (its table's marker) and the reference snapshot (memberships and reference
# tables) record the markers they saw, so a sensor without a cursor can start from them.
SOURCE_MARKER = "source_marker"


def changed_projects(previous: dict, current: dict, project_ids: list[int]) -> list[int]:
    changed = []
    candidate_ids = set(project_ids)
    for table in PROJECT_TABLES:
        candidate_ids |= {int(p) for p in current.get(table, {})} | {int(p) for p in previous.get(table, {})}
    for project_id in sorted(candidate_ids):
        key = str(project_id)
        if any(previous.get(t, {}).get(key) != current.get(t, {}).get(key) for t in PROJECT_TABLES):
            changed.append(project_id)
    return [p for p in changed if p in set(project_ids)]


def reference_changed(previous: dict, current: dict) -> bool:
    return any(previous.get(t) != current.get(t) for t in REFERENCE_TABLES)


def table_totals(markers: dict) -> dict[str, tuple[int, str | None]]:
    """Per table: (rows, latest updated_at) summed over its projects (or its '*' marker)."""
    totals = {}
    for table, per_project in markers.items():
        stamps = [m[0] for m in per_project.values() if m[0]]
        totals[table] = (sum(int(m[1]) for m in per_project.values()), max(stamps) if stamps else None)
    return totals


def changed_tables(previous: dict, current: dict) -> list[str]:
    """Tables whose markers differ from the previous snapshot (all of them on a first look)."""
    return sorted(t for t in current if previous.get(t) != current[t])
