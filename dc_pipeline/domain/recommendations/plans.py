"""From a final population to plans (SPEC §6c): the front, its knee, target plans and thinning."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dc_pipeline.domain.recommendations.nsga2 import crowding_distance, non_dominated_ranks
from dc_pipeline.domain.recommendations.problem import CHANGE_THRESHOLD, DecisionProblem

MAX_PLANS = 50
DC_TARGETS = (1, 3, 5)
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Front:
    """Non-dominated, de-duplicated decisions sorted by effort (then gain descending)."""

    delta: np.ndarray  # (F, M)
    gain: np.ndarray  # (F,) ΔDC
    effort: np.ndarray  # (F,) E


def pareto_front(problem: DecisionProblem, population: np.ndarray) -> Front:
    x = np.unique(np.asarray(population, dtype=float), axis=0)
    gain, effort = problem.gain(x), problem.effort(x)
    first = non_dominated_ranks(np.column_stack([-gain, effort])) == 0
    x, gain, effort = x[first], gain[first], effort[first]
    # Equal objective vectors from different decisions: keep one (the first in unique order).
    _, keep = np.unique(np.column_stack([gain, effort]), axis=0, return_index=True)
    keep = np.sort(keep)
    x, gain, effort = x[keep], gain[keep], effort[keep]
    order = np.lexsort((-gain, effort))
    return Front(x[order], gain[order], effort[order])


def knee_index(gain: np.ndarray, effort: np.ndarray) -> int:
    """The front point farthest from the chord between the front's ends, in range-normalised units."""
    if gain.size <= 2:
        return int(gain.size - 1)
    g_span = max(gain.max() - gain.min(), _TOLERANCE)
    e_span = max(effort.max() - effort.min(), _TOLERANCE)
    g = (gain - gain.min()) / g_span
    e = (effort - effort.min()) / e_span
    start = np.array([e[0], g[0]])  # cheapest end
    end = np.array([e[-1], g[-1]])  # largest-gain end (the front is sorted by effort)
    chord = end - start
    length = np.hypot(*chord)
    if length <= _TOLERANCE:
        return 0
    distance = np.abs(chord[0] * (g - start[1]) - chord[1] * (e - start[0])) / length
    if distance.max() <= _TOLERANCE:  # a straight front has no knee: take its largest-gain end
        return int(gain.size - 1)
    return int(np.argmax(distance))


def target_indices(gain: np.ndarray, effort: np.ndarray, targets=DC_TARGETS) -> dict[int, int | str]:
    """Cheapest front point with ΔDC >= target, or the statement of the largest reachable ΔDC."""
    result: dict[int, int | str] = {}
    for target in targets:
        reaching = np.flatnonzero(gain >= target - _TOLERANCE)
        if reaching.size:
            result[target] = int(reaching[np.argmin(effort[reaching])])
        else:
            best = math.floor(float(gain.max(initial=0.0)) * 10 + 1e-9) / 10  # never rounds up past the target
            result[target] = f"not reachable within bounds: max +{best:.1f}"
    return result


def thin_by_crowding(gain: np.ndarray, effort: np.ndarray, protected: set[int], limit: int = MAX_PLANS) -> np.ndarray:
    """Indices kept after repeatedly dropping the most crowded unprotected point (ends are protected)."""
    kept = np.arange(gain.size)
    objectives = np.column_stack([-gain, effort])
    while kept.size > limit:
        crowd = crowding_distance(objectives[kept], np.zeros(kept.size, dtype=int))
        crowd[np.isin(kept, list(protected))] = np.inf
        if np.isinf(crowd).all():
            break
        kept = np.delete(kept, int(np.argmin(crowd)))
    return kept


def plan_dict(
    problem: DecisionProblem, delta: np.ndarray, plan_id: int, outcome_per_dc_point: dict | None = None
) -> dict:
    """A plan with exact totals: delta_dc = Σ gain and effort = Σ effort over its metric entries."""
    gains = problem.gain_per_metric(delta)
    efforts = problem.effort_per_metric(delta)
    changed = np.flatnonzero(delta > 0)
    changed = changed[np.argsort(-gains[changed], kind="stable")]
    metrics = [
        problem.labels[m]
        | {
            "current": float(problem.score[m]),
            "target": float(problem.score[m] + delta[m]),
            "delta": float(delta[m]),
            "gain": float(gains[m]),
            "effort": float(efforts[m]),
        }
        for m in changed
    ]
    delta_dc = float(gains.sum())
    plan = {
        "plan_id": plan_id,
        "delta_dc": delta_dc,
        "effort": float(efforts.sum()),
        "n_metrics_changed": int((delta >= CHANGE_THRESHOLD).sum()),
        "metrics": metrics,
    }
    if outcome_per_dc_point and outcome_per_dc_point.get("validated"):
        plan["outcome_change"] = outcome_change(delta_dc, outcome_per_dc_point)
    return plan


def outcome_change(delta_dc: float, per_point: dict) -> dict:
    """ΔDC × the validated outcome-per-DC-point estimate and its interval (ΔDC >= 0 keeps the order)."""
    low, high = sorted((delta_dc * float(per_point["ci_low"]), delta_dc * float(per_point["ci_high"])))
    return {
        "outcome": per_point.get("outcome"),
        "estimate": delta_dc * float(per_point["estimate"]),
        "ci_low": low,
        "ci_high": high,
        "level": per_point.get("level"),
    }
