"""Dimension scores (test-unit weighted), DQ scores and bands (SPEC §5), for every project of a run.

A scope is a project or one of its member brands; scopes are numbered project by project, the
project first, then its members in ascending brand order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.catalog import DIMENSIONS
from dc_pipeline.domain.quality.context import RunContext
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


def _scopes(rc: RunContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, brand or NaN, is_project) per scope, in scope order."""
    n, members = len(rc), rc.members
    p = np.concatenate([np.arange(n), members.p])
    brand = np.concatenate([np.full(n, np.nan), members.key])
    is_project = np.concatenate([np.ones(n, bool), np.zeros(members.p.size, bool)])
    order = np.lexsort((np.arange(p.size), ~is_project, p))
    return p[order], brand[order], is_project[order]


def dimension_totals(rule_results: pd.DataFrame, rc: RunContext) -> tuple[np.ndarray, np.ndarray]:
    """(units, passed) per scope x dimension. A project sums every unit, a member brand only the units
    attributed to it."""
    p_scope, _, is_project = _scopes(rc)
    n_scopes = p_scope.size
    project_scope = np.flatnonzero(is_project)  # scope of each project, by p
    member_scope = np.flatnonzero(~is_project)  # scope of each member, in members order
    p = rule_results["p"].to_numpy()
    dim = rule_results["dimension"].map({d: i for i, d in enumerate(DIMENSIONS)}).to_numpy(dtype="int64")
    brand = rule_results["brand_id"].to_numpy(dtype="float64", na_value=np.nan)
    member = rc.members.find(p, brand)
    scope = np.concatenate([project_scope[p], member_scope[member[member >= 0]]])
    dims = np.concatenate([dim, dim[member >= 0]])
    weights = {
        col: np.concatenate([rule_results[col].to_numpy(), rule_results[col].to_numpy()[member >= 0]])
        for col in ("units", "passed")
    }
    cell = scope * len(DIMENSIONS) + dims
    size = n_scopes * len(DIMENSIONS)
    units, passed = (
        np.bincount(cell, weights=weights[c], minlength=size).astype("int64").reshape(n_scopes, -1)
        for c in ("units", "passed")
    )
    return units, passed


def dimension_scores(rule_results: pd.DataFrame, rc: RunContext) -> pd.DataFrame:
    """p, scope, brand_id, dimension, score, units: one row per scope and dimension with >= 1 unit."""
    p_scope, brand, is_project = _scopes(rc)
    units, passed = dimension_totals(rule_results, rc)
    scope_i, dim_i = np.nonzero(units > 0)
    known = ~np.isnan(brand[scope_i])
    return pd.DataFrame(
        {
            "p": p_scope[scope_i],
            "scope": pd.array(np.where(is_project[scope_i], "project", "brand").astype(object), dtype="str"),
            "brand_id": pd.arrays.IntegerArray(np.nan_to_num(brand[scope_i]).astype("int64"), ~known),
            "dimension": pd.array(np.array(DIMENSIONS, dtype=object)[dim_i], dtype="str"),
            "score": passed[scope_i, dim_i] / units[scope_i, dim_i],
            "units": units[scope_i, dim_i],
        }
    )


def dq_scores(dims: pd.DataFrame, config: DqConfig, rc: RunContext) -> pd.DataFrame:
    """Σ W_d·score_d / Σ W_d over dimensions with >= 1 unit (a dimension absent from the weights weighs 1)."""
    p_scope, brand, is_project = _scopes(rc)
    weight_of = {d: float(config.dimension_weights.get(d, 1.0)) for d in DIMENSIONS}
    # Rows of `dims` come scope by scope in scope order; each scope's rows are consecutive.
    scope_index = pd.MultiIndex.from_arrays([p_scope, np.nan_to_num(brand, nan=-np.inf)])
    dim_scope = scope_index.get_indexer(
        pd.MultiIndex.from_arrays([dims["p"].to_numpy(), dims["brand_id"].to_numpy(dtype="float64", na_value=-np.inf)])
    )
    bounds = np.searchsorted(dim_scope, np.arange(p_scope.size + 1))
    weights = dims["dimension"].map(weight_of).to_numpy(dtype="float64")
    values = dims["score"].to_numpy()
    scores = np.full(p_scope.size, np.nan)
    for i in range(p_scope.size):
        w = weights[bounds[i] : bounds[i + 1]]
        total = w.sum()
        if w.size and total > 0:
            # np.dot per scope, as BLAS rounds it: the same score whatever the run's size
            scores[i] = float(np.dot(w, values[bounds[i] : bounds[i + 1]]) / total)
    known = ~np.isnan(brand)
    return pd.DataFrame(
        {
            "p": p_scope,
            "scope": pd.array(np.where(is_project, "project", "brand").astype(object), dtype="str"),
            "brand_id": pd.arrays.IntegerArray(np.nan_to_num(brand).astype("int64"), ~known),
            "score": scores,
            "band": pd.array([band_of(s) for s in scores], dtype="str"),
        }
    )
