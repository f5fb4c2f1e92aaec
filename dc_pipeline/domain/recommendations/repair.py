"""Constraint repair (SPEC §6c): at most K metrics with Δ >= 0.5; keep the K best gain/effort ratios."""

from __future__ import annotations

import numpy as np

from dc_pipeline.domain.recommendations.problem import CHANGE_THRESHOLD, DecisionProblem


def repair(population: np.ndarray, problem: DecisionProblem) -> np.ndarray:
    """Clip every gene to [0, U_m], then reset the changed metrics beyond the K best ratios to Δ = 0."""
    x = np.clip(np.atleast_2d(np.asarray(population, dtype=float)), 0.0, problem.upper)
    changed = x >= CHANGE_THRESHOLD
    k = problem.max_changed
    over = changed.sum(axis=1) > k
    if not over.any():
        return x
    sub = x[over]
    sub_changed = changed[over]
    ratio = problem.gain_per_metric(sub) / np.maximum(problem.effort_per_metric(sub), 1e-300)
    ratio = np.where(sub_changed, ratio, -np.inf)
    # Rank of each gene by ratio within its individual (0 = best); stable so ties keep gene order.
    order = np.argsort(-ratio, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :].repeat(order.shape[0], axis=0), axis=1)
    reset = sub_changed & (rank >= k)
    sub[reset] = 0.0
    x[over] = sub
    return x
