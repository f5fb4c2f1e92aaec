"""IQR outliers (Tukey fences) among a set of labelled values."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports.blocks.status import insufficient, ok_block

FENCE = 1.5
MIN_N = 4


def iqr_outliers(values: dict[str, float], *, what: str, min_n: int = MIN_N, fence: float = FENCE) -> dict[str, Any]:
    """Values beyond q1 - fence*IQR or q3 + fence*IQR (numpy's linear percentiles)."""
    finite = {k: float(v) for k, v in values.items() if v is not None and np.isfinite(v)}
    if len(finite) < min_n:
        return insufficient(f"insufficient {what}: {len(finite)}, {min_n} needed for IQR outliers", len(finite), min_n)
    arr = np.array(list(finite.values()))
    q1, q3 = (float(q) for q in np.percentile(arr, [25, 75]))
    lower, upper = q1 - fence * (q3 - q1), q3 + fence * (q3 - q1)
    out = {}
    for key, v in finite.items():
        if v < lower or v > upper:
            high = v > upper
            edge = upper if high else lower
            out[key] = {"value": v, "direction": "high" if high else "low", "fence": edge, "distance": abs(v - edge)}
    return ok_block(
        method="iqr",
        fence_multiplier=fence,
        n=len(finite),
        q1=q1,
        q3=q3,
        iqr=q3 - q1,
        lower_fence=lower,
        upper_fence=upper,
        n_outliers=len(out),
        outliers=out,
    )
