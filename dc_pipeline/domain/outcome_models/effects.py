"""Outcome per DC point with few-cluster intervals, coefficients and permutation importance."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance

from dc_pipeline.domain.outcome_models.candidates import ModelConfig
from dc_pipeline.domain.outcome_models.cluster_bootstrap import wild_cluster_bootstrap
from dc_pipeline.domain.outcome_models.features import feature_columns
from dc_pipeline.domain.outcome_models.transforms import TargetTransform
from dc_pipeline.domain.source_tables import SECTIONS

SUPPORTED_LEVELS: tuple[float, ...] = (0.80, 0.90, 0.95, 0.99)
BOOTSTRAP_REPS = 999  # wild bootstrap draws: no refits, a few milliseconds per interval
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


def effect_design(data: pd.DataFrame, config: ModelConfig) -> tuple[np.ndarray, np.ndarray, str]:
    """The OLS design behind the effect interval: the chosen feature set in score points, brand
    dummies when the chosen model has brand fixed effects (else an intercept), and the contrast
    that sums the coefficients a +1 DC point moves. hgb has no coefficients: its interval is the
    one of the same feature set's linear model, and `specification` says so."""
    features = feature_columns(config.feature_set)
    columns = [data[features].to_numpy(dtype=float)]
    if config.brand_fe:
        brands = data["brand_id"].to_numpy()
        columns.append((brands[:, None] == np.unique(brands)[None, :]).astype(float))
    else:
        columns.append(np.ones((len(data), 1)))
    x = np.hstack(columns)
    contrast = np.zeros(x.shape[1])
    contrast[[features.index(c) for c in _shifted_columns(config.feature_set)]] = 1.0
    terms = " + ".join(features) + (" + brand fixed effects" if config.brand_fe else " + intercept")
    prefix = "linear stand-in for hgb: " if not config.is_linear else ""
    return x, contrast, f"{prefix}OLS on {terms}, brands as clusters"


def effect_interval(
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
    """Outcome per DC point with intervals that hold with few brands: the wild cluster restricted
    bootstrap (Webb weights, brands as clusters) on the OLS fit of the chosen specification on the
    transformed target, converted to original units at the mean of y like the estimate.
    `estimate` stays the tuned model's (SPEC §6a); `inference.estimate` is the unpenalised one the
    interval is centred near. Bounds are +/-inf where the data never reject; NaN with
    `ci_reason` when no interval can be computed (fewer than 3 brands, effect not identified)."""
    y = data[target].to_numpy(dtype=float)
    to_original = transform.original_per_transformed(float(np.mean(y)))
    x, contrast, specification = effect_design(data, config)
    levels = tuple(sorted({*SUPPORTED_LEVELS, float(confidence_level)}))
    out: dict[str, Any] = {
        "estimate": float(estimate),
        "level": float(confidence_level),
        "n_boot": int(n_boot),
        "n_brands": int(data["brand_id"].nunique()),
        "method": "coefficient" if config.is_linear else "finite_difference",
        "units": f"{target} per DC point",
    }
    try:
        result = wild_cluster_bootstrap(
            x, transform.forward(y), data["brand_id"].to_numpy(), contrast, levels=levels, n_boot=n_boot, seed=seed
        )
    except ValueError as exc:
        return out | {
            "ci_low": float("nan"),
            "ci_high": float("nan"),
            "intervals": {},
            "p_value": None,
            "ci_reason": f"no effect interval: {exc}",
        }
    intervals = {f"{level:.2f}": sorted(to_original * b for b in bounds) for level, bounds in result.intervals.items()}
    low, high = intervals[f"{confidence_level:.2f}"]
    return out | {
        "ci_low": float(low),
        "ci_high": float(high),
        "intervals": intervals,
        "p_value": result.p_value,
        "ci_reason": None,
        "inference": {
            "method": "wild cluster restricted bootstrap-t, Webb six-point weights, interval by test inversion",
            "specification": specification,
            "estimate": to_original * result.estimate,
            "se": to_original * result.se,
            "n_clusters": result.n_clusters,
        },
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
