"""Holm's step-down adjustment of p values (Holm 1979), the multiplicity rule of the report trend tests.

statsmodels' multipletests(method="holm") gives the same numbers (a test checks it) but calls gc.collect() on
every call, which costs 0.2-0.5 s in a report process holding large frames; this is its four lines."""

from __future__ import annotations

import numpy as np


def holm_adjusted(p_values) -> np.ndarray:
    """min(1, cumulative max of (m - i) p_(i)) in the original order."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate((p.size - np.arange(p.size)) * p[order])
    out = np.empty_like(p)
    out[order] = np.minimum(1.0, adjusted)
    return out
