"""The shared corr block (SPEC §7): Pearson r with p and a Fisher-z CI at the confidence level,
Spearman rho with p, n. Below MIN_N observations the block reports insufficient data.

p values assume independent observations; brand-periods of one brand are not independent, so a
report calls a relationship significant only from the slope block's brand-clustered test."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from dc_pipeline.domain.reports.blocks.status import insufficient, ok_block

MIN_N = 5


def _finite_pairs(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def p_label(p: float | None) -> str | None:
    """'p < 0.001' or 'p = 0.042': a display string derived from p (cited as a string figure)."""
    if p is None or not np.isfinite(p):
        return None
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def corr_block(x, y, confidence_level: float, *, what: str, min_n: int = MIN_N, **extra: Any) -> dict[str, Any]:
    """Pearson and Spearman of y on x over the finite pairs; `what` names the pairs for the reason."""
    x, y = _finite_pairs(x, y)
    n = int(x.size)
    if n < min_n:
        return insufficient(
            f"insufficient observations: {n} {what}, {min_n} needed for a correlation", n, min_n, n=n, **extra
        )
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return insufficient(
            f"no variation: {'x' if np.ptp(x) == 0 else 'y'} is constant over {n} {what}", n, min_n, n=n, **extra
        )
    pearson = stats.pearsonr(x, y)
    ci = pearson.confidence_interval(confidence_level)  # Fisher z
    spearman = stats.spearmanr(x, y)
    return ok_block(
        n=n,
        confidence_level=confidence_level,
        confidence_percent=round(100 * confidence_level),
        pearson={
            "r": float(pearson.statistic),
            "p": float(pearson.pvalue),
            "p_label": p_label(pearson.pvalue),
            "ci_low": float(ci.low),
            "ci_high": float(ci.high),
        },
        spearman={"rho": float(spearman.statistic), "p": float(spearman.pvalue)},
        **extra,
    )


def rank_corr_block(x, y, confidence_level: float, *, what: str, min_n: int = MIN_N) -> dict[str, Any]:
    """Spearman rho and Kendall tau-b (tie-corrected) with p values, for ordinal outcomes such as ranks."""
    x, y = _finite_pairs(x, y)
    n = int(x.size)
    if n < min_n:
        return insufficient(
            f"insufficient observations: {n} {what}, {min_n} needed for a rank correlation", n, min_n, n=n
        )
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return insufficient(f"no variation over {n} {what}", n, min_n, n=n)
    spearman = stats.spearmanr(x, y)
    kendall = stats.kendalltau(x, y)
    return ok_block(
        n=n,
        confidence_level=confidence_level,
        confidence_percent=round(100 * confidence_level),
        spearman={"rho": float(spearman.statistic), "p": float(spearman.pvalue)},
        kendall={"tau": float(kendall.statistic), "p": float(kendall.pvalue)},
    )


def spearman_matrix(frame, columns: list[str], *, min_n: int = MIN_N) -> dict[str, Any]:
    """Spearman rho between every pair of columns over rows where both are finite."""
    n = int(frame[columns].dropna().shape[0])
    if n < min_n:
        return insufficient(
            f"insufficient observations: {n} complete rows, {min_n} needed for a Spearman matrix", n, min_n, n=n
        )
    rho = frame[columns].corr(method="spearman", min_periods=min_n)
    return ok_block(
        n=n,
        columns=list(columns),
        matrix={a: {b: (None if np.isnan(rho.at[a, b]) else float(rho.at[a, b])) for b in columns} for a in columns},
    )
