"""Outcome per DC point with brand-level bootstrap CIs, coefficients and permutation importance."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance

from dc_pipeline.domain.outcome_models.candidates import ModelConfig, build_estimator
from dc_pipeline.domain.outcome_models.transforms import TargetTransform
from dc_pipeline.domain.source_tables import SECTIONS

SUPPORTED_LEVELS: tuple[float, ...] = (0.80, 0.90, 0.95, 0.99)
BOOTSTRAP_REPS = 500
PERMUTATION_REPEATS = 10


def _shifted_columns(feature_set: str) -> list[str]:
    """Columns moved by +1 DC point: the current DC, or every section (a uniform +1 on every
    metric raises each section score, and so the DC, by one point)."""
    return list(SECTIONS) if feature_set == "sections" else ["dc"]


def _linear_parts(estimator: TransformedTargetRegressor):
    pipe = estimator.regressor_
    prep, model = pipe.named_steps["prep"], pipe.named_steps["model"]
    names = list(prep.get_feature_names_out())
    scales = prep.numeric_scales()
    return names, np.asarray(model.coef_, dtype=float), float(model.intercept_), scales


def outcome_per_dc_point(
    estimator: TransformedTargetRegressor,
    config: ModelConfig,
    x: pd.DataFrame,
    y: np.ndarray,
    transform: TargetTransform,
) -> float:
    """Original units per DC point: the linear coefficient(s) on the transformed scale converted
    at the mean of y, or for hgb the mean change of the original-scale prediction."""
    shifted = _shifted_columns(config.feature_set)
    if config.is_linear:
        names, coef, _, scales = _linear_parts(estimator)
        slope = sum(coef[names.index(c)] / scales[c] for c in shifted)
        return float(slope * transform.original_per_transformed(float(np.mean(y))))
    moved = x.copy()
    moved[shifted] = moved[shifted] + 1.0
    return float(np.mean(estimator.predict(moved) - estimator.predict(x)))


def coefficients_frame(estimator: TransformedTargetRegressor, config: ModelConfig) -> pd.DataFrame:
    """term, coef_standardised (per sd of the feature), coef_per_unit (per feature unit), both on
    the transformed target scale; brand dummies are not scaled, so both columns agree there."""
    columns = ["term", "coef_standardised", "coef_per_unit"]
    if not config.is_linear:
        return pd.DataFrame(columns=columns)
    names, coef, intercept, scales = _linear_parts(estimator)
    rows = [("intercept", intercept, intercept)]
    rows += [(n, float(c), float(c / scales.get(n, 1.0))) for n, c in zip(names, coef)]
    return pd.DataFrame(rows, columns=columns)


def fit_quietly(estimator: TransformedTargetRegressor, x: pd.DataFrame, y: np.ndarray) -> TransformedTargetRegressor:
    with warnings.catch_warnings():
        # Strong elastic-net penalties may stop short of convergence; the CV error judges them.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*l1_ratio.*")
        return estimator.fit(x, y)


def bootstrap_outcome_per_dc_point(
    data: pd.DataFrame,
    target: str,
    config: ModelConfig,
    transform: TargetTransform,
    *,
    estimate: float,
    confidence_level: float,
    seed: int,
    n_boot: int = BOOTSTRAP_REPS,
) -> dict[str, Any]:
    """Percentile CIs from refits (chosen configuration, no re-tuning) on brand-level resamples.
    Each drawn brand becomes its own cluster, so a brand drawn twice counts as two brands."""
    rng = np.random.default_rng(seed)
    brands = np.sort(data["brand_id"].unique())
    groups = {b: data.index[data["brand_id"].to_numpy() == b].to_numpy() for b in brands}
    cols = config.input_columns()
    draws = np.empty(n_boot)
    for i in range(n_boot):
        chosen = rng.choice(brands, size=len(brands), replace=True)
        idx = np.concatenate([groups[b] for b in chosen])
        sample = data.loc[idx, [*cols, target]].copy()
        sample["brand_id"] = np.repeat(np.arange(len(chosen)), [len(groups[b]) for b in chosen])
        y = sample[target].to_numpy(dtype=float)
        est = fit_quietly(build_estimator(config, transform, seed), sample[cols], y)
        draws[i] = outcome_per_dc_point(est, config, sample[cols], y, transform)
    draws = draws[np.isfinite(draws)]
    levels = sorted({*SUPPORTED_LEVELS, float(confidence_level)})
    intervals = {}
    for level in levels:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2]) if draws.size else (np.nan, np.nan)
        intervals[f"{level:.2f}"] = [float(lo), float(hi)]
    low, high = intervals[f"{confidence_level:.2f}"]
    return {
        "estimate": float(estimate),
        "ci_low": low,
        "ci_high": high,
        "level": float(confidence_level),
        "intervals": intervals,
        "n_boot": int(draws.size),
        "n_brands": int(len(brands)),
        "method": "coefficient" if config.is_linear else "finite_difference",
        "units": f"{target} per DC point",
    }


def permutation_importance_frame(
    estimator: TransformedTargetRegressor,
    x: pd.DataFrame,
    y: np.ndarray,
    seed: int,
    n_repeats: int = PERMUTATION_REPEATS,
) -> pd.DataFrame:
    """feature, importance_mean, importance_sd: increase in RMSE (original units) when the column
    is shuffled, on the final fit over all observations."""
    result = permutation_importance(
        estimator, x, y, n_repeats=n_repeats, random_state=seed, scoring="neg_root_mean_squared_error"
    )
    return (
        pd.DataFrame(
            {
                "feature": list(x.columns),
                "importance_mean": result.importances_mean,
                "importance_sd": result.importances_std,
            }
        )
        .sort_values("importance_mean", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
