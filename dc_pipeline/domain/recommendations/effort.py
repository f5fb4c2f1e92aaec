"""The effort function of SPEC §6c, stated once: the optimizer, the reports and the portfolio use it."""

from __future__ import annotations

import numpy as np


def effort(score, delta, cost, best):
    """c·(Δ + Δ²/(101 − s)) + c·max(0, s + Δ − max(s, best)) for directed score s raised by Δ.

    Convex, rising near the ceiling, with a surcharge on the points past the cohort best.
    Works elementwise on scalars or numpy arrays."""
    s, d, c = (np.asarray(x, dtype=float) for x in (score, delta, cost))
    headroom = np.maximum(0.0, np.asarray(best, dtype=float) - s)
    return c * (d + d * d / (101.0 - s)) + c * np.maximum(0.0, d - headroom)
