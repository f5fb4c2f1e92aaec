"""Downside statistics of a score series and probabilities from stored forecast quantiles (reports 19, 21, 23).

- Historical VaR and expected shortfall at level a (5 %): with the n period changes sorted ascending and
  k = ceil(a n), VaR = -(k-th smallest change) and ES = -(mean of the k smallest), both in DC points (a loss is
  positive). With fewer than 1/a changes the VaR is the worst change seen, and the block says so.
- Maximum drawdown: the largest fall from a running peak to a later value.
- A forecast's distribution at one horizon is read from the stored quantiles (0.005 ... 0.995) by linear
  interpolation in normal-score space: between two stored quantiles x is linear in z = Phi^-1(p), and beyond
  the outer ones the outer segment is extended (normal tails). This is exact for a normal forecast and follows
  the stored skew otherwise. Its CDF at x is the closed form used for P(DC below a floor) and the scenario
  probabilities; `quantile_draws` samples the same distribution by inverse transform (the seeded draws)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

VAR_LEVEL = 0.05


def var_es(changes, level: float = VAR_LEVEL) -> dict[str, Any]:
    x = np.sort(np.asarray(changes, dtype=float))
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return {"n_changes": 0, "var": None, "expected_shortfall": None, "tail_count": 0}
    k = max(1, math.ceil(level * n - 1e-12))
    return {
        "n_changes": n,
        "level": level,
        "tail_count": k,
        "var": float(-x[k - 1]),
        "expected_shortfall": float(-x[:k].mean()),
        "worst_change": float(x[0]),
        "tail_is_worst_seen": bool(n < 1 / level),
    }


def max_drawdown(values) -> dict[str, Any]:
    """Largest peak-to-later-trough fall (>= 0) with the positions of the peak and the trough."""
    v = np.asarray(values, dtype=float)
    peaks = np.maximum.accumulate(v)
    drawdown = peaks - v
    trough = int(np.argmax(drawdown))
    peak = int(np.argmax(v[: trough + 1])) if trough > 0 else 0
    return {
        "max_drawdown": float(drawdown[trough]),
        "peak_index": peak,
        "trough_index": trough,
        "drawdown": [float(d) for d in drawdown],
    }


def _knots(levels, values) -> tuple[np.ndarray, np.ndarray]:
    """(z = Phi^-1(level), value) knots with values made non-decreasing and ties nudged apart."""
    from scipy.stats import norm

    z = norm.ppf(np.asarray(levels, dtype=float))
    v = np.maximum.accumulate(np.asarray(values, dtype=float))
    v = v + np.arange(v.size) * 1e-9  # a flat stretch (e.g. clipped at 100) keeps the map invertible
    return z, v


def _z_of(x: np.ndarray, z: np.ndarray, v: np.ndarray) -> np.ndarray:
    inside = np.interp(x, v, z)
    below = z[0] + (x - v[0]) * (z[1] - z[0]) / (v[1] - v[0])
    above = z[-1] + (x - v[-1]) * (z[-1] - z[-2]) / (v[-1] - v[-2])
    return np.where(x < v[0], below, np.where(x > v[-1], above, inside))


def quantile_cdf(levels, values, x: float) -> float:
    """P(X <= x) of the distribution through the stored quantiles (normal-score interpolation)."""
    from scipy.stats import norm

    z, v = _knots(levels, values)
    return float(norm.cdf(_z_of(np.asarray(float(x)), z, v)))


def quantile_draws(levels, values, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws by inverse transform: u ~ U(0, 1), z = Phi^-1(u), x linear in z between (and beyond) the knots."""
    from scipy.stats import norm

    z, v = _knots(levels, values)
    u = norm.ppf(rng.uniform(size=n))
    inside = np.interp(u, z, v)
    below = v[0] + (u - z[0]) * (v[1] - v[0]) / (z[1] - z[0])
    above = v[-1] + (u - z[-1]) * (v[-1] - v[-2]) / (z[-1] - z[-2])
    return np.where(u < z[0], below, np.where(u > z[-1], above, inside))
