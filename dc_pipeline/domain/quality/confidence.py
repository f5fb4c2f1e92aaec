"""DQ score as the confidence of everything computed from validated inputs (issue 4, SPEC §5 "DQ in reports").

Pure pandas so `dc_scores` and the reports can call it on the `dc_dq.dq_scores` frame
(columns project_id, scope, brand_id, score, band) they load.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def dq_confidence(dq_scores: pd.DataFrame) -> dict[int, tuple[float, str | None]]:
    """{project_id: (score, band)} from the project-scope rows."""
    if dq_scores is None or dq_scores.empty:
        return {}
    projects = dq_scores[dq_scores["scope"] == "project"]
    return {
        int(r.project_id): (float(r.score), None if pd.isna(r.band) else str(r.band)) for r in projects.itertuples()
    }


def with_dq_confidence(frame: pd.DataFrame, dq_scores: pd.DataFrame) -> pd.DataFrame:
    """`frame` (project_id, brand_id, ...) plus dq_score, dq_band and dq_scope: the (project, brand) score
    where one exists, else the project score; NaN/None when the project has no DQ result."""
    out = frame.copy()
    if dq_scores is None or dq_scores.empty or out.empty:
        out["dq_score"] = np.full(len(out), np.nan)
        out["dq_band"] = pd.Series([None] * len(out), index=out.index, dtype=object)
        out["dq_scope"] = pd.Series([None] * len(out), index=out.index, dtype=object)
        return out
    keys = ["project_id", "brand_id"]
    brand = dq_scores[dq_scores["scope"] == "brand"][keys + ["score", "band"]].copy()
    brand["project_id"], brand["brand_id"] = brand["project_id"].astype("int64"), brand["brand_id"].astype("int64")
    project = dq_scores[dq_scores["scope"] == "project"][["project_id", "score", "band"]].copy()
    project["project_id"] = project["project_id"].astype("int64")
    left = out[keys].astype("int64")
    by_brand = left.merge(brand, on=keys, how="left")
    by_project = left.merge(project, on="project_id", how="left")
    has_brand = by_brand["score"].notna().to_numpy()
    out["dq_score"] = by_brand["score"].where(has_brand, by_project["score"]).to_numpy(dtype="float64")
    band = by_brand["band"].where(has_brand, by_project["band"])
    out["dq_band"] = pd.Series([b if isinstance(b, str) else None for b in band], index=out.index, dtype=object)
    scope = np.where(has_brand, "brand", np.where(by_project["score"].notna(), "project", None))
    out["dq_scope"] = pd.Series(scope.astype(object), index=out.index, dtype=object)
    return out
