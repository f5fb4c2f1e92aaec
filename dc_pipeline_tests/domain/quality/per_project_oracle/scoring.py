"""Dimension scores (test-unit weighted), DQ scores and bands (SPEC §5)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.catalog import DIMENSIONS
from dc_pipeline.domain.settings import DqConfig

BANDS: tuple[tuple[float, str], ...] = ((0.8, "excellent"), (0.6, "acceptable"))


def band_of(score: float | None) -> str | None:
    """'excellent' >= 0.8, 'acceptable' >= 0.6, else 'poor'; None when there is no score."""
    if score is None or (isinstance(score, float) and math.isnan(score)) or pd.isna(score):
        return None
    for floor, band in BANDS:
        if score >= floor:
            return band
    return "poor"


def _dimension_rows(results: pd.DataFrame, scope: str, brand_id) -> list[dict]:
    totals = results.groupby("dimension")[["units", "passed"]].sum()
    return [
        {
            "scope": scope,
            "brand_id": brand_id,
            "dimension": dim,
            "score": float(totals.at[dim, "passed"] / totals.at[dim, "units"]),
            "units": int(totals.at[dim, "units"]),
        }
        for dim in DIMENSIONS
        if dim in totals.index and totals.at[dim, "units"] > 0
    ]


def dimension_scores(rule_results: pd.DataFrame, brand_ids) -> pd.DataFrame:
    """Project scope sums every unit; brand scope only the units attributed to that brand."""
    rows = _dimension_rows(rule_results, "project", pd.NA)
    for brand in brand_ids:
        rows += _dimension_rows(
            rule_results[(rule_results["brand_id"] == brand).fillna(False).to_numpy(dtype=bool)], "brand", int(brand)
        )
    frame = pd.DataFrame(rows, columns=["scope", "brand_id", "dimension", "score", "units"])
    frame["brand_id"] = pd.array(frame["brand_id"], dtype="Int64")
    return frame


def dq_scores(dims: pd.DataFrame, config: DqConfig, brand_ids) -> pd.DataFrame:
    """Σ W_d·score_d / Σ W_d over dimensions with >= 1 unit (a dimension absent from the weights weighs 1)."""
    rows = []
    scopes = [("project", pd.NA)] + [("brand", int(b)) for b in brand_ids]
    for scope, brand in scopes:
        mask = dims["scope"] == scope
        if scope == "brand":
            mask &= (dims["brand_id"] == brand).fillna(False).astype(bool)
        part = dims[mask.to_numpy(dtype=bool)]
        weights = part["dimension"].map(lambda d: float(config.dimension_weights.get(d, 1.0))).to_numpy()
        total = weights.sum() if len(part) else 0.0
        score = float(np.dot(weights, part["score"].to_numpy()) / total) if total > 0 else float("nan")
        rows.append({"scope": scope, "brand_id": brand, "score": score, "band": band_of(score)})
    frame = pd.DataFrame(rows, columns=["scope", "brand_id", "score", "band"])
    frame["brand_id"] = pd.array(frame["brand_id"], dtype="Int64")
    return frame
