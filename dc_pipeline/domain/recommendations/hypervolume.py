"""2-D hypervolume for (maximise ΔDC, minimise E), normalised to the unit box.

Reference point ΔDC = 0, E = effort with every gene at u_m. The dominated region of a point
(g, E) is [E, E_ref] × [0, g]; the normalised hypervolume divides the union's area by
max_gain × E_ref, so 1.0 would mean the whole gain at zero effort.
"""

from __future__ import annotations

import numpy as np


def hypervolume(gain: np.ndarray, effort: np.ndarray, max_gain: float, reference_effort: float) -> float:
    g = np.asarray(gain, dtype=float).ravel()
    e = np.asarray(effort, dtype=float).ravel()
    if max_gain <= 0 or reference_effort <= 0:
        return 0.0
    inside = np.isfinite(g) & np.isfinite(e) & (g > 0) & (e < reference_effort)
    if not inside.any():
        return 0.0
    g, e = g[inside], e[inside]
    order = np.lexsort((-g, e))  # by effort ascending
    g, e = g[order], e[order]
    best_gain = np.maximum.accumulate(g)  # best gain reachable at effort <= e_i
    widths = np.diff(np.append(e, reference_effort))
    return float((widths * best_gain).sum() / (max_gain * reference_effort))
