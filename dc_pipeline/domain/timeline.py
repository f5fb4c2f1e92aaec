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
