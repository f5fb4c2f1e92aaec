"""The shared slope block (SPEC §7): pooled OLS slope with a CI, plus the within-brand (fixed-effects)
slope when at least two brands have two or more periods.

Brand-periods of one brand are not independent, so when brands repeat the standard errors are
clustered by brand with t on G - 1 degrees of freedom (statsmodels cluster covariance); a
relationship is called significant only when that p < alpha. A cross-section (one row per brand)
uses the classical OLS errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from dc_pipeline.domain.reports.blocks.correlation import p_label
from dc_pipeline.domain.reports.blocks.status import insufficient, ok_block

MIN_N = 5
MIN_WITHIN_BRANDS = 2


def _fit(y: np.ndarray, design: np.ndarray, groups: np.ndarray | None):
    model = sm.OLS(y, design)
    if groups is None:
        return model.fit(), "classical"
    return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True), "brand_clustered"


def _summary(result, inference: str, confidence_level: float, alpha: float, n: int, n_brands: int) -> dict[str, Any]:
    low, high = result.conf_int(alpha=1 - confidence_level)[1]
    p = float(result.pvalues[1])
    df = float(getattr(result, "df_resid_inference", None) or result.df_resid)
    return {
        "slope": float(result.params[1]),
        "se": float(result.bse[1]),
        "ci_low": float(low),
        "ci_high": float(high),
        "p": p,
        "p_label": p_label(p),
        "df": df,
        "inference": inference,
        "n": n,
        "n_brands": n_brands,
        "significant": bool(p < alpha),
    }


def _clusters(brands: np.ndarray) -> np.ndarray | None:
    """Brand codes when any brand repeats (panel), else None (a cross-section is independent)."""
    codes, counts = np.unique(brands, return_inverse=True, return_counts=True)[1:]
    return codes if counts.max() > 1 and counts.size >= 2 else None


def pooled_ols(x: np.ndarray, y: np.ndarray, brands: np.ndarray, confidence_level: float) -> dict[str, Any]:
    alpha = 1 - confidence_level
    result, inference = _fit(y, sm.add_constant(x, has_constant="add"), _clusters(brands))
    out = _summary(result, inference, confidence_level, alpha, int(x.size), int(np.unique(brands).size))
    out["intercept"] = float(result.params[0])
    out["r2"] = float(result.rsquared)
    out["residual_sd"] = float(np.sqrt(result.scale))
    cov = result.cov_params()
    out["cov"] = {"intercept": float(cov[0, 0]), "slope": float(cov[1, 1]), "intercept_slope": float(cov[0, 1])}
    return out


def fit_band(pooled: dict, x_grid, confidence_level: float) -> dict:
    """The pooled line and its CI band for the mean at x_grid, from the slope block's own covariance and df."""
    from scipy import stats

    x = np.asarray(x_grid, dtype=float)
    fitted = pooled["intercept"] + pooled["slope"] * x
    cov = pooled["cov"]
    se = np.sqrt(np.maximum(0.0, cov["intercept"] + 2 * x * cov["intercept_slope"] + x * x * cov["slope"]))
    half = stats.t.ppf(0.5 + confidence_level / 2, pooled["df"]) * se
    return {
        "x": x.tolist(),
        "fit": fitted.tolist(),
        "low": (fitted - half).tolist(),
        "high": (fitted + half).tolist(),
        "level": confidence_level,
    }


def within_brand_ols(x: np.ndarray, y: np.ndarray, brands: np.ndarray, confidence_level: float) -> dict[str, Any]:
    """Slope of y on x with one intercept per brand (brands with a single row carry no within information)."""
    counts = pd.Series(brands).value_counts()
    keep = np.isin(brands, counts[counts >= 2].index.to_numpy())
    n_brands = int((counts >= 2).sum())
    if n_brands < MIN_WITHIN_BRANDS:
        return insufficient(
            f"insufficient panel: {n_brands} brands with 2 or more periods, "
            f"{MIN_WITHIN_BRANDS} needed for a within-brand slope",
            n_brands,
            MIN_WITHIN_BRANDS,
        )
    x, y, brands = x[keep], y[keep], brands[keep]
    dummies = pd.get_dummies(pd.Series(brands), dtype=float).to_numpy()
    if np.ptp(x - pd.Series(x).groupby(brands).transform("mean").to_numpy()) == 0:
        return insufficient("no within-brand variation of x", n_brands, MIN_WITHIN_BRANDS)
    design = np.column_stack([dummies[:, :1], x, dummies[:, 1:]])  # column 1 is the slope, as in pooled
    result, inference = _fit(y, design, np.unique(brands, return_inverse=True)[1])
    return {
        "status": "ok",
        "reason": None,
        **_summary(result, inference, confidence_level, 1 - confidence_level, int(x.size), n_brands),
    }


def slope_block(
    frame: pd.DataFrame, x: str, y: str, confidence_level: float, *, what: str, min_n: int = MIN_N, **extra: Any
) -> dict[str, Any]:
    """Slope of column y on column x over rows where both are finite; `frame` has a brand_id column."""
    rows = frame.loc[np.isfinite(frame[x].astype(float)) & np.isfinite(frame[y].astype(float))]
    n = len(rows)
    if n < min_n:
        return insufficient(
            f"insufficient observations: {n} {what}, {min_n} needed for a slope", n, min_n, n=n, **extra
        )
    xs, ys = rows[x].to_numpy(dtype=float), rows[y].to_numpy(dtype=float)
    if np.ptp(xs) == 0:
        return insufficient(f"no variation: {x} is constant over {n} {what}", n, min_n, n=n, **extra)
    brands = rows["brand_id"].to_numpy()
    pooled = pooled_ols(xs, ys, brands, confidence_level)
    return ok_block(
        n=n,
        n_brands=pooled["n_brands"],
        x=x,
        y=y,
        confidence_level=confidence_level,
        confidence_percent=round(100 * confidence_level),
        alpha=round(1 - confidence_level, 10),
        pooled=pooled,
        within=within_brand_ols(xs, ys, brands, confidence_level),
        significant=pooled["significant"],
        **extra,
    )
