"""The shared trend block: Mann-Kendall (S, Z, p with tie correction) and Sen's slope with its CI.

Reused by reports 1, 18, 22 and 24. Sen's slope and its interval come from scipy.stats.theilslopes;
scipy has no Mann-Kendall test, so S and its tie-corrected variance are computed here (Kendall 1975,
normal approximation with continuity correction) and checked against scipy.stats.kendalltau in tests.
Consistency around the trend (1 - sd of residuals around the Sen line / mean) sits next to the plain
one (1 - sd / mean), so steady growth is not mistaken for inconsistency.

Serial correlation inflates Mann-Kendall's false-positive rate (AR(1) noise with phi 0.6 shows a "trend" in
about a third of 36-period series), so Var(S) is scaled by the effective-sample-size factor of Yue & Wang
(2004) for AR(1) noise, n/n* = 1 + 2 sum_k (1 - k/n) r^k, with r the lag-1 autocorrelation of the Sen-detrended
series (Kendall bias-corrected, clipped to [0, 0.9]); the factor is at least 1, so the correction never makes
the test more liberal than the plain one."""

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


def lag1_autocorrelations(residuals: np.ndarray) -> np.ndarray:
    """Per row of a 2-D array: the lag-1 autocorrelation, bias-corrected (r + (1 + 3r)/n, Kendall) and clipped
    to [0, 0.9]; 0 for rows without spread or shorter than 3."""
    e = residuals - residuals.mean(axis=1, keepdims=True)
    n = e.shape[1]
    denom = np.einsum("ij,ij->i", e, e)
    if n < 3:
        return np.zeros(len(e))
    r = np.divide(np.einsum("ij,ij->i", e[:, 1:], e[:, :-1]), denom, out=np.zeros(len(e)), where=denom > 0)
    return np.where(denom > 0, np.clip(r + (1 + 3 * r) / n, 0.0, 0.9), 0.0)


def lag1_autocorrelation(residuals) -> float:
    """lag1_autocorrelations of one series."""
    return float(lag1_autocorrelations(np.asarray(residuals, dtype=float)[None, :])[0])


def variance_ratios(residuals: np.ndarray) -> np.ndarray:
    """Per row: n/n* = 1 + 2 sum_{k=1}^{n-1} (1 - k/n) r^k under AR(1) with r = lag1_autocorrelations (Yue & Wang
    2004), >= 1: how much serial correlation inflates the variance of a mean or a rank statistic."""
    n = residuals.shape[1]
    r, k = lag1_autocorrelations(residuals), np.arange(1, n)
    return np.maximum(1.0, 1.0 + 2.0 * ((1 - k / n)[None, :] * r[:, None] ** k[None, :]).sum(axis=1))


def autocorrelation_ratio(y, x, slope: float) -> float:
    """variance_ratios of the Sen-detrended series."""
    detrended = np.asarray(y, dtype=float) - slope * np.asarray(x, dtype=float)
    return float(variance_ratios(detrended[None, :])[0])


def mann_kendall(y, variance_ratio: float = 1.0) -> dict[str, float]:
    """S = sum of sign(y_j - y_i) over i < j; Var(S) corrected for ties (and scaled by `variance_ratio`, the
    autocorrelation factor n/n*); two-sided p of Z."""
    y = np.asarray(y, dtype=float)
    n = y.size
    s = float(np.sign(y[None, :] - y[:, None])[np.triu_indices(n, 1)].sum())
    _, ties = np.unique(y, return_counts=True)
    plain = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
    var = plain * variance_ratio
    z = 0.0 if var <= 0 or s == 0 else (s - np.sign(s)) / np.sqrt(var)
    p = float(2 * stats.norm.sf(abs(z)))
    return {
        "s": s,
        "var_s": float(var),
        "var_s_ties_only": float(plain),
        "autocorrelation_ratio": float(variance_ratio),
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
    sen = stats.theilslopes(y, x, alpha=confidence_level)
    mk = mann_kendall(y, autocorrelation_ratio(y, x, sen.slope))
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
