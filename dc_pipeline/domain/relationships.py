"""Shared statistical report blocks `corr` and `slope` (SPEC §7 "Shared blocks").

Both take raw columns, drop pairs with a missing or non-finite value in either variable, and
return plain dicts (JSON-ready floats) with a `status` of 'ok' or 'insufficient_data' and a
`reason` naming observed and required counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CORR_MIN_N = 5
SLOPE_MIN_N = 3  # two parameters plus one residual degree of freedom


def _finite_pairs(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = _as_float(x), _as_float(y)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y differ in length: {xa.size} vs {ya.size}")
    keep = np.isfinite(xa) & np.isfinite(ya)
    return xa[keep], ya[keep]


def _as_float(values: Any) -> np.ndarray:
    """Numeric float array; non-numeric entries and pandas NA become NaN."""
    series = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
    return series.to_numpy(dtype=float, na_value=np.nan)


def _insufficient(n: int, needed: int) -> str:
    return f"insufficient data: {n} observations, {needed} needed"


def _constant_reason(x: np.ndarray, y: np.ndarray) -> str | None:
    for name, v in (("x", x), ("y", y)):
        if np.ptp(v) == 0:
            return f"no variation: {name} is constant over {v.size} observations"
    return None


def fisher_z_ci(r: float, n: int, confidence_level: float) -> tuple[float, float]:
    """Fisher-z interval for a Pearson r; degenerate (r, r) when |r| = 1 or n <= 3."""
    if n <= 3 or abs(r) >= 1.0:
        return float(r), float(r)
    z = np.arctanh(r)
    half = stats.norm.ppf(0.5 + confidence_level / 2) / np.sqrt(n - 3)
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def corr_block(x: Any, y: Any, confidence_level: float = 0.95, min_n: int = CORR_MIN_N) -> dict[str, Any]:
    """Pearson r (p, Fisher-z CI) and Spearman rho (p) of y on x."""
    xa, ya = _finite_pairs(x, y)
    n = int(xa.size)
    block: dict[str, Any] = {
        "n": n,
        "status": "ok",
        "reason": None,
        "confidence_level": confidence_level,
        "pearson": None,
        "spearman": None,
    }
    reason = _insufficient(n, min_n) if n < min_n else _constant_reason(xa, ya)
    if reason:
        block.update(status="insufficient_data", reason=reason)
        return block
    pr = stats.pearsonr(xa, ya)
    r = float(np.clip(pr.statistic, -1.0, 1.0))
    lo, hi = fisher_z_ci(r, n, confidence_level)
    sr = stats.spearmanr(xa, ya)
    block["pearson"] = {"r": r, "p": float(pr.pvalue), "ci_low": lo, "ci_high": hi}
    block["spearman"] = {"rho": float(sr.statistic), "p": float(sr.pvalue)}
    return block


def _ols_slope(x: np.ndarray, y: np.ndarray, df_resid: int, confidence_level: float) -> dict[str, float]:
    """Slope of y on x (both already centred or not; the intercept is handled by the caller's df)."""
    xc = x - x.mean()
    sxx = float(np.sum(xc**2))
    slope = float(np.sum(xc * (y - y.mean())) / sxx)
    resid = (y - y.mean()) - slope * xc
    sigma2 = float(np.sum(resid**2)) / df_resid
    se = float(np.sqrt(sigma2 / sxx))
    tcrit = float(stats.t.ppf(0.5 + confidence_level / 2, df_resid))
    if se > 0:
        p = float(2 * stats.t.sf(abs(slope / se), df_resid))
    else:  # exact fit: the slope is known without error
        p = 0.0
    return {
        "slope": slope,
        "se": se,
        "ci_low": slope - tcrit * se,
        "ci_high": slope + tcrit * se,
        "p": p,
        "df_resid": int(df_resid),
    }


def slope_block(
    df: pd.DataFrame,
    x: str,
    y: str,
    brand_col: str = "brand_id",
    period_col: str = "period",
    confidence_level: float = 0.95,
) -> dict[str, Any]:
    """Pooled OLS slope of `y` on `x`, plus a within-brand (brand fixed effects) slope when at
    least 2 brands have at least 2 periods. Significant means p < alpha = 1 - confidence_level."""
    alpha = 1.0 - confidence_level
    frame = pd.DataFrame(
        {
            "b": df[brand_col].to_numpy(),
            "t": df[period_col].to_numpy(),
            "x": _as_float(df[x]),
            "y": _as_float(df[y]),
        }
    )
    frame = frame[np.isfinite(frame["x"]) & np.isfinite(frame["y"])]
    n = len(frame)
    block: dict[str, Any] = {
        "x": x,
        "y": y,
        "n": n,
        "status": "ok",
        "reason": None,
        "confidence_level": confidence_level,
        "alpha": alpha,
        "pooled": None,
        "within_brand": {"status": "insufficient_data", "reason": None},
    }
    xa, ya = frame["x"].to_numpy(), frame["y"].to_numpy()
    reason = (
        _insufficient(n, SLOPE_MIN_N)
        if n < SLOPE_MIN_N
        else (f"no variation: {x} is constant over {n} observations" if np.ptp(xa) == 0 else None)
    )
    if reason:
        block.update(status="insufficient_data", reason=reason)
        block["within_brand"]["reason"] = reason
        return block
    pooled = _ols_slope(xa, ya, n - 2, confidence_level)
    pooled.update(intercept=float(ya.mean() - pooled["slope"] * xa.mean()), n=n, significant=bool(pooled["p"] < alpha))
    block["pooled"] = pooled
    block["within_brand"] = _within_brand(frame, x, confidence_level, alpha)
    return block


def _within_brand(frame: pd.DataFrame, x: str, confidence_level: float, alpha: float) -> dict[str, Any]:
    periods = frame.groupby("b")["t"].nunique()
    multi = periods[periods >= 2].index
    if len(multi) < 2:
        return {
            "status": "insufficient_data",
            "reason": f"within-brand slope needs 2 brands with 2 periods: {len(multi)} brands have 2 or more",
        }
    sub = frame[frame["b"].isin(multi)]
    # Demeaning by brand removes each brand's level; the slope then comes from changes over time.
    xd = (sub["x"] - sub.groupby("b")["x"].transform("mean")).to_numpy()
    yd = (sub["y"] - sub.groupby("b")["y"].transform("mean")).to_numpy()
    n_w, g = len(sub), len(multi)
    df_resid = n_w - g - 1
    if df_resid < 1:
        return {
            "status": "insufficient_data",
            "reason": f"within-brand slope needs {g + 2} observations in {g} brands, {n_w} available",
        }
    if np.allclose(xd, 0):
        return {"status": "insufficient_data", "reason": f"no within-brand variation in {x}"}
    fit = _ols_slope(xd, yd, df_resid, confidence_level)
    fit.update(status="ok", reason=None, n=n_w, n_brands=g, significant=bool(fit["p"] < alpha))
    return fit
