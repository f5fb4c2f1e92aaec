"""Statistics of one series over periods: mean, median, min/max, sd, consistency, changes.

A period-to-period change is notable only when it stands out from the brand's own movement: with at
least MIN_EARLIER_CHANGES earlier changes, |change| > 2 sd of them and |change - their mean| > 2 sd
(so a steady grower's usual step is not news, and a flat brand's noise is not news either)."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports.blocks.trend import consistency

NOTABLE_SD = 2.0
MIN_EARLIER_CHANGES = 3


def change_notability(changes: np.ndarray) -> dict[str, Any]:
    """Whether the last change stands out against the earlier ones."""
    earlier = changes[:-1]
    if changes.size == 0 or earlier.size < MIN_EARLIER_CHANGES:
        return {
            "notable": False,
            "earlier_changes": int(earlier.size),
            "earlier_sd": None,
            "earlier_mean": None,
            "threshold": None,
            "rule": f"needs {MIN_EARLIER_CHANGES} earlier changes",
        }
    sd, mean = float(np.std(earlier, ddof=1)), float(np.mean(earlier))
    last = float(changes[-1])
    notable = abs(last) > NOTABLE_SD * sd and abs(last - mean) > NOTABLE_SD * sd
    return {
        "notable": bool(notable),
        "earlier_changes": int(earlier.size),
        "earlier_sd": sd,
        "earlier_mean": mean,
        "threshold": NOTABLE_SD * sd,
        "z": None if sd == 0 else (last - mean) / sd,
        "rule": f"|change| and |change - mean| above {NOTABLE_SD:g} sd of the earlier changes",
    }


def series_statistics(values) -> dict[str, Any]:
    v = np.asarray(values, dtype=float)
    n = int(v.size)
    sd = float(np.std(v, ddof=1)) if n >= 2 else None
    changes = np.diff(v)
    return {
        "n_periods": n,
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "min": float(v.min()),
        "max": float(v.max()),
        "sd": sd,
        "consistency": consistency(v, sd),
        "change_vs_previous": float(changes[-1]) if n >= 2 else None,
        "change_sd": float(np.std(changes, ddof=1)) if changes.size >= 2 else None,
        "latest_change": change_notability(changes),
    }
