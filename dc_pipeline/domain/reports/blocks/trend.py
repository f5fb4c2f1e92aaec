"""The shared trend block: Mann-Kendall (S, Z, p with tie correction) and Sen's slope with its CI.

Reused by reports 1, 18, 22 and 24. Sen's slope and its interval come from scipy.stats.theilslopes;
scipy has no Mann-Kendall test, so S and its tie-corrected variance are computed here (Kendall 1975,
normal approximation with continuity correction) and checked against scipy.stats.kendalltau in tests.
Consistency around the trend (1 - sd of residuals around the Sen line / mean) sits next to the plain
one (1 - sd / mean), so steady growth is not mistaken for inconsistency."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dc_pipeline.domain.reports.blocks.correlation import p_label
from dc_pipeline.domain.reports.blocks.status import insufficient, ok_block

MIN_N = 4


def period_numbers(periods, months_per_period: int) -> np.ndarray:
    """Periods as 0, 1, 2, ... on the project's grain (gaps keep their distance)."""
    p = pd.to_datetime(pd.Series(periods))
    months = (p.dt.year * 12 + p.dt.month).to_numpy()
    return (months - months.min()) / months_per_period


def mann_kendall(y) -> dict[str, float]:
    """S = sum of sign(y_j - y_i) over i < j; Var(S) corrected for ties; two-sided p of Z."""
    y = np.asarray(y, dtype=float)
    n = y.size
    s = float(np.sign(y[None, :] - y[:, None])[np.triu_indices(n, 1)].sum())
    _, ties = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
    z = 0.0 if var <= 0 or s == 0 else (s - np.sign(s)) / np.sqrt(var)
    p = float(2 * stats.norm.sf(abs(z)))
    return {
        "s": s,
        "var_s": float(var),
        "z": float(z),
        "p": p,
        "p_label": p_label(p),
        "tau": float(s / (n * (n - 1) / 2)),
    }


def consistency(values: np.ndarray, spread: float | None) -> float | None:
    mean = float(np.mean(values))
    return None if spread is None or mean == 0 else 1.0 - spread / mean


def trend_block(x, y, confidence_level: float, *, what: str, min_n: int = MIN_N, **extra: Any) -> dict[str, Any]:
    """Trend of y over x (period numbers), finite pairs only; `what` names the series in reasons."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(y.size)
    if n < min_n:
        return insufficient(
            f"insufficient history: {n} periods of {what}, {min_n} needed for a trend test", n, min_n, n=n, **extra
        )
    alpha = round(1 - confidence_level, 10)
    mk = mann_kendall(y)
    sen = stats.theilslopes(y, x, alpha=confidence_level)
    residuals = y - (sen.intercept + sen.slope * x)
    spread = float(np.std(residuals, ddof=2)) if n > 2 else None
    sd = float(np.std(y, ddof=1))
    significant = mk["p"] < alpha
    direction = ("rising" if mk["s"] > 0 else "falling") if significant else "no_clear_trend"
    return ok_block(
        n=n,
        confidence_level=confidence_level,
        alpha=alpha,
        mann_kendall=mk,
        sen={
            "slope": float(sen.slope),
            "intercept": float(sen.intercept),
            "ci_low": float(sen.low_slope),
            "ci_high": float(sen.high_slope),
        },
        significant=bool(significant),
        direction=direction,
        first_value=float(y[0]),
        last_value=float(y[-1]),
        trend_change=float(sen.slope * (x[-1] - x[0])),
        mean=float(np.mean(y)),
        sd=sd,
        residual_sd=spread,
        consistency=consistency(y, sd),
        consistency_detrended=consistency(y, spread),
        **extra,
    )
