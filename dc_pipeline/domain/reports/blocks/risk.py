"""Downside statistics of a score series and probabilities from stored forecast quantiles (reports 19, 21, 23).

- Historical VaR and expected shortfall at level a (5 %): with the n period changes sorted ascending and
  k = ceil(a n), VaR = -(k-th smallest change) and ES = -(mean of the k smallest), both in DC points (a loss is
  positive). With fewer than 1/a changes the VaR is the worst change seen, and the block says so.
- Maximum drawdown: the largest fall from a running peak to a later value.
- A forecast's distribution at one horizon is the piecewise-linear quantile function through the stored
  quantiles (0.005 ... 0.995); its CDF at x is the closed form used for P(DC below a floor) and for the
  scenario probabilities, and `quantile_draws` samples it by inverse transform (the seeded draws)."""

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


def quantile_cdf(levels, values, x: float) -> float:
    """P(X <= x) under the piecewise-linear quantile function through (levels, values), with the tails
    beyond the outer stored quantiles as in `_support`."""
    p, q = _support(levels, values)
    if x <= q[0]:
        return 0.0
    if x >= q[-1]:
        return 1.0
    i = int(np.searchsorted(q, x, side="right"))
    lo, hi = q[i - 1], q[i]
    if hi == lo:
        return float(p[i])
    return float(p[i - 1] + (p[i] - p[i - 1]) * (x - lo) / (hi - lo))


def _support(levels, values) -> tuple[np.ndarray, np.ndarray]:
    """Quantile knots extended to probability 0 and 1 by mirroring the outer spacing (a tail as wide as the
    step from the 0.5 % to the 2.5 % quantile), with values made non-decreasing."""
    p = np.asarray(levels, dtype=float)
    q = np.maximum.accumulate(np.asarray(values, dtype=float))
    low = q[0] - (q[1] - q[0]) * p[0] / (p[1] - p[0])
    high = q[-1] + (q[-1] - q[-2]) * (1 - p[-1]) / (p[-1] - p[-2])
    return np.concatenate([[0.0], p, [1.0]]), np.concatenate([[low], q, [high]])


def quantile_draws(levels, values, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws by inverse transform of uniform variates through the same piecewise-linear quantile function."""
    p, q = _support(levels, values)
    return np.interp(rng.uniform(size=n), p, q)
