"""A project's time line (SPEC §2 "Period semantics").

Projects sharing a `series_group` form one time line; the time line of project p is every
project of its group whose start is not after p's last period. A null group: p alone.
"""

from __future__ import annotations

import pandas as pd


def series_projects(projects: pd.DataFrame, project_id: int) -> list[int]:
    row = projects.loc[projects["project_id"] == project_id]
    if row.empty:
        raise KeyError(f"project {project_id} is not in the reference snapshot")
    group = row["series_group"].iloc[0]
    if group is None or (isinstance(group, float) and pd.isna(group)):
        return [int(project_id)]
    last = _last_period(row.iloc[0])
    members = projects[(projects["series_group"] == group) & (pd.to_datetime(projects["start_date"]) <= last)]
    return sorted(int(p) for p in members["project_id"])


def _last_period(project: pd.Series) -> pd.Timestamp:
    end = project.get("end_date")
    return pd.Timestamp(end) if end is not None and not pd.isna(end) else pd.Timestamp.max


def seasonal_period(grain: str) -> int:
    return 4 if grain == "quarter" else 12


def one_row_per_brand_period(frame: pd.DataFrame, project_id: int, last_period=None) -> pd.DataFrame:
    """One row per (brand_id, period) of a time line's rows (SPEC §2): where projects overlap, the row of
    the partition's own project wins, else the latest project's. Rows after `last_period` are dropped."""
    rows = frame if last_period is None else frame[pd.to_datetime(frame["period"]) <= pd.Timestamp(last_period)]
    ranked = rows.assign(_own=(rows["project_id"] == project_id).astype(int))
    ranked = ranked.sort_values(["_own", "project_id"], kind="stable")
    return ranked.drop_duplicates(["brand_id", "period"], keep="last").drop(columns="_own")
