"""The portfolio DQ assessment of the daily maintenance (SPEC §11)."""

from __future__ import annotations

import pandas as pd


def project_dq_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Per project (dc_dq.dq_scores rows): its latest score and band and how many of its brands are poor."""
    projects = scores[scores["scope"] == "project"][["project_id", "score", "band"]]
    poor = scores[(scores["scope"] == "brand") & (scores["band"] == "poor")].groupby("project_id").size()
    return projects.assign(brands_poor=projects["project_id"].map(poor).fillna(0).astype(int))
