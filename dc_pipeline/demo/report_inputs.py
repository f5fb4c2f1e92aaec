"""ReportData of a demo project built in memory (source tables -> DC scores -> ReportData), for tests,
the reports benchmark and offline previews; no Postgres or Dagster needed.

Only rows a report could trust are scored: values must be finite and in [0, 100] with one row per
(project, brand, metric, period) - a shortcut for clean demo projects, not the quality step."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.reports.data import ReportData, report_data_from_frames
from dc_pipeline.domain.scoring import compute_dc_scores


def clean_values(values: pd.DataFrame) -> pd.DataFrame:
    v = values[np.isfinite(values["normalized_value"]) & values["normalized_value"].between(0, 100)]
    v = v.drop_duplicates(["project_id", "brand_id", "metric_id", "period"], keep=False)
    return v.assign(period=pd.to_datetime(v["period"]))


def demo_frames(tables: dict[str, pd.DataFrame], project_id: int) -> dict[str, object]:
    """The frames report_data_from_frames reads for `project_id`, from the seven source tables: reference frames,
    DC scores, outcomes and metrics of the project's series group."""
    projects = tables["projects"]
    group = projects.loc[projects["project_id"] == project_id, "series_group"]
    in_group = projects["project_id"] == project_id
    if len(group) and pd.notna(group.iloc[0]):
        in_group |= projects["series_group"] == group.iloc[0]
    ids = set(projects.loc[in_group, "project_id"].astype(int))
    values = tables["normalisedvalue"]
    metrics = tables["metrics"][tables["metrics"]["project_id"].isin(ids)]
    outcomes = tables["business_outcomes"]
    return {
        "projects": projects,
        "project_brands": tables["project_brands"],
        "brands": tables["brands"],
        "scores": compute_dc_scores(clean_values(values[values["project_id"].isin(ids)]), metrics),
        "outcomes": outcomes[outcomes["project_id"].isin(ids)],
        "metrics": metrics,
    }


def demo_report_data(
    tables: dict[str, pd.DataFrame], project_id: int, dq: dict | None = None, **model_outputs
) -> ReportData:
    """ReportData of `project_id` from the seven source tables (demo_dataset / techcorp_tables)."""
    return report_data_from_frames(project_id, **demo_frames(tables, project_id), dq=dq, **model_outputs)
