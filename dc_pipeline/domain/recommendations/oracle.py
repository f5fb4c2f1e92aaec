"""Exact front by marginal-ratio water-filling on a 0.1-point grid (SPEC §6c test oracle).

Gain is linear and effort is separable and convex in each Δ_m, so the marginal gain/effort
ratio of successive grid steps never rises within a metric. Taking all steps of all metrics in
descending ratio order therefore yields, at every cumulative step, the cheapest allocation for
its gain: the exact front on the grid when no cardinality limit binds (K >= |M|).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dc_pipeline.domain.recommendations.problem import DecisionProblem

GRID_STEP = 0.1


@dataclass(frozen=True)
class OracleFront:
    gain: np.ndarray  # cumulative ΔDC, starting at 0
    effort: np.ndarray  # cumulative E, starting at 0
    step_metric: np.ndarray  # metric index of each step, in front order
    step_delta: np.ndarray  # Δ of each step (the grid step, shorter at a bound)

    def allocation(self, n_steps: int, n_metrics: int) -> np.ndarray:
        """Δ per metric after the first n_steps steps of the front (its point n_steps)."""
        return np.bincount(self.step_metric[:n_steps], weights=self.step_delta[:n_steps], minlength=n_metrics)


def water_filling_front(problem: DecisionProblem, step: float = GRID_STEP) -> OracleFront:
    step_gain, step_effort, step_metric, step_delta = [], [], [], []
    for m in range(problem.n_metrics):
        n_steps = int(np.ceil(problem.upper[m] / step - 1e-9))
        grid = np.minimum(step * np.arange(n_steps + 1), problem.upper[m])  # last step reaches the bound
        delta = np.zeros((grid.size, problem.n_metrics))
        delta[:, m] = grid
        effort = problem.effort_per_metric(delta)[:, m]
        step_gain.append(problem.weight[m] * np.diff(grid))
        step_effort.append(np.diff(effort))
        step_metric.append(np.full(grid.size - 1, m))
        step_delta.append(np.diff(grid))
    gain = np.concatenate(step_gain)
    effort = np.concatenate(step_effort)
    metric, delta = np.concatenate(step_metric).astype(int), np.concatenate(step_delta)
    positive = effort > 0
    gain, effort, metric, delta = gain[positive], effort[positive], metric[positive], delta[positive]
    order = np.argsort(-(gain / effort), kind="stable")  # stable: a metric's steps stay in grid order
    return OracleFront(
        gain=np.concatenate([[0.0], np.cumsum(gain[order])]),
        effort=np.concatenate([[0.0], np.cumsum(effort[order])]),
        step_metric=metric[order],
        step_delta=delta[order],
    )
