"""Entry point of the score->outcome models (SPEC §6a): gate, tune, refit, explain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
import pandas as pd

from dc_pipeline.domain.outcome_models.candidates import (
    ModelConfig,
    available_candidates,
    build_estimator,
    config_from_params,
    default_trial_params,
    suggest_config,
)
from dc_pipeline.domain.outcome_models.cv import Fold, expanding_window_folds
from dc_pipeline.domain.outcome_models.effects import (
    BOOTSTRAP_REPS,
    coefficients_frame,
    effect_interval,
    fit_quietly,
    outcome_per_dc_point,
    permutation_importance_frame,
)
from dc_pipeline.domain.outcome_models.features import ModelFrame, available_feature_sets, build_model_frame
from dc_pipeline.domain.outcome_models.transforms import TargetTransform, transform_for
from dc_pipeline.domain.relationships import corr_block
from dc_pipeline.domain.thread_limits import single_threaded
from dc_pipeline.domain.tuning import StudySummary, TuningSettings, in_memory_study, optimize, study_name

MODEL_KIND = "outcome_model"
MIN_PERIODS = 4
OOF_COLUMNS = ["brand_id", "period", "fold", "actual", "predicted", "baseline"]

StudyFactory = Callable[[str, str], optuna.Study]


@dataclass
class OutcomeModelResult:
    status: str  # 'ok' | 'insufficient_data' | 'failed'
    reason: str | None
    target: str
    n_obs: int
    n_periods: int
    n_brands: int
    correlation: dict[str, Any]  # corr_block of DC vs the target over the modelling rows
    transform: str | None = None
    chosen: dict[str, Any] | None = None  # candidate, feature_set, brand_fe, params
    cv_metrics: dict[str, float] | None = None  # rmse, mae, r2, skill, baseline_rmse, n_oof, n_folds
    validated: bool = False
    validation_reason: str | None = None
    coefficients: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["term", "coef_standardised", "coef_per_unit"])
    )
    permutation_importance: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["feature", "importance_mean", "importance_sd"])
    )
    oof_predictions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=OOF_COLUMNS))
    outcome_per_dc_point: dict[str, Any] | None = None
    estimator: Any = None  # fitted TransformedTargetRegressor; the caller persists it with joblib
    study: StudySummary | None = None
    n_sections_imputed: int = 0
    n_lag_imputed: int = 0

    def as_metadata(self) -> dict[str, Any]:
        """JSON-ready summary for the model registry and asset metadata (frames excluded)."""
        return {
            "status": self.status,
            "reason": self.reason,
            "target": self.target,
            "n_obs": self.n_obs,
            "n_periods": self.n_periods,
            "n_brands": self.n_brands,
            "transform": self.transform,
            "chosen": self.chosen,
            "cv_metrics": self.cv_metrics,
            "validated": self.validated,
            "validation_reason": self.validation_reason,
            "outcome_per_dc_point": self.outcome_per_dc_point,
            "correlation": self.correlation,
            "study": None if self.study is None else self.study.as_metadata(),
        }


def _baseline(train: pd.DataFrame, test: pd.DataFrame, target: str, by_brand: bool) -> np.ndarray:
    """Mean of the training targets; with fixed effects the brand's training mean (global mean
    for a brand not seen in training)."""
    overall = float(train[target].mean())
    if not by_brand:
        return np.full(len(test), overall)
    means = train.groupby("brand_id")[target].mean()
    return test["brand_id"].map(means).fillna(overall).to_numpy(dtype=float)


def cross_validate(
    mf: ModelFrame,
    config: ModelConfig,
    transform: TargetTransform,
    folds: list[Fold],
    seed: int,
    trial: optuna.Trial | None = None,
) -> pd.DataFrame:
    """Out-of-fold predictions on the original scale; reports the running mean fold RMSE to the
    trial so the pruner can stop weak configurations early."""
    data, cols, target = mf.data, config.input_columns(), mf.target
    pieces, fold_rmse = [], []
    for fold in folds:
        train, test = data.iloc[fold.train_idx], data.iloc[fold.test_idx]
        est = fit_quietly(build_estimator(config, transform, seed), train[cols], train[target].to_numpy(dtype=float))
        predicted = est.predict(test[cols])
        actual = test[target].to_numpy(dtype=float)
        pieces.append(
            pd.DataFrame(
                {
                    "brand_id": test["brand_id"].to_numpy(),
                    "period": test["period"].to_numpy(),
                    "fold": fold.number,
                    "actual": actual,
                    "predicted": predicted,
                    "baseline": _baseline(train, test, target, config.brand_fe),
                }
            )
        )
        fold_rmse.append(float(np.sqrt(np.mean((actual - predicted) ** 2))))
        if trial is not None:
            trial.report(float(np.mean(fold_rmse)), step=fold.number)
            if trial.should_prune():
                raise optuna.TrialPruned()
    return pd.concat(pieces, ignore_index=True)


def oof_rmse(oof: pd.DataFrame, column: str = "predicted") -> float:
    err = oof["actual"].to_numpy() - oof[column].to_numpy()
    value = float(np.sqrt(np.mean(err**2)))
    return value if np.isfinite(value) else float("inf")


def cv_metrics(oof: pd.DataFrame, n_folds: int) -> dict[str, float]:
    actual, predicted = oof["actual"].to_numpy(), oof["predicted"].to_numpy()
    rmse, baseline_rmse = oof_rmse(oof), oof_rmse(oof, "baseline")
    sst = float(np.sum((actual - actual.mean()) ** 2))
    return {
        "rmse": rmse,
        "mae": float(np.mean(np.abs(actual - predicted))),
        "r2": float(1 - np.sum((actual - predicted) ** 2) / sst) if sst > 0 else float("nan"),
        "baseline_rmse": baseline_rmse,
        "skill": float(1 - rmse / baseline_rmse) if baseline_rmse > 0 else float("nan"),
        "n_oof": int(len(oof)),
        "n_folds": int(n_folds),
    }


def _validation(metrics: dict[str, float], corr: dict[str, Any], alpha: float) -> tuple[bool, str]:
    skill = metrics["skill"]
    if corr["status"] != "ok":
        return False, f"DC correlation not available: {corr['reason']}"
    p = corr["pearson"]["p"]
    beats = bool(np.isfinite(skill) and skill > 0)
    significant = bool(p < alpha)
    verdict = "validated" if beats and significant else "not validated"
    return beats and significant, (
        f"{verdict}: skill {skill:.3f} {'>' if beats else '<='} 0, DC correlation p {p:.3g} "
        f"{'<' if significant else '>='} {alpha:.2f}"
    )


def fit_outcome_model(
    obs: pd.DataFrame,
    target: str,
    *,
    project_id: int | str,
    data_version: str,
    settings: TuningSettings,
    study_factory: StudyFactory | None = None,
    confidence_level: float = 0.95,
    min_data_points: int = 10,
    seed: int = 42,
    n_boot: int = BOOTSTRAP_REPS,
) -> OutcomeModelResult:
    """Tune and fit the model of `target` on DC/section scores.

    `obs`: brand_id, period, dc, the four SECTIONS and `target`, one row per brand-period (pooled over
    the project's series group). `study_factory(name, 'minimize')` supplies the Optuna study (RDB
    storage in Dagster); None means an in-memory study.
    """
    # The data are a few hundred rows: OpenMP/BLAS thread pools only add overhead here and
    # oversubscribe the CPU when Optuna runs trials in parallel, so each fit runs single-threaded.
    with single_threaded():
        return _fit(
            obs,
            target,
            project_id=project_id,
            data_version=data_version,
            settings=settings,
            study_factory=study_factory,
            confidence_level=confidence_level,
            min_data_points=min_data_points,
            seed=seed,
            n_boot=n_boot,
        )


def _fit(
    obs: pd.DataFrame,
    target: str,
    *,
    project_id: int | str,
    data_version: str,
    settings: TuningSettings,
    study_factory: StudyFactory | None,
    confidence_level: float,
    min_data_points: int,
    seed: int,
    n_boot: int,
) -> OutcomeModelResult:
    mf = build_model_frame(obs, target)
    y = mf.y()
    corr = corr_block(mf.data["dc"], y, confidence_level)
    base = dict(
        target=target,
        n_obs=mf.n_obs,
        n_periods=mf.n_periods,
        n_brands=mf.n_brands,
        correlation=corr,
        n_sections_imputed=mf.n_sections_imputed,
        n_lag_imputed=mf.n_lag_imputed,
    )
    if mf.n_obs < min_data_points:
        return OutcomeModelResult(
            "insufficient_data", f"model not fitted: {mf.n_obs} observations, {min_data_points} needed", **base
        )
    if mf.n_periods < MIN_PERIODS:
        return OutcomeModelResult(
            "insufficient_data", f"model not fitted: {mf.n_periods} periods, {MIN_PERIODS} needed", **base
        )

    transform = transform_for(target, y)
    folds = expanding_window_folds(mf.data["period"])
    candidates = available_candidates(mf.n_obs)
    feature_sets = available_feature_sets(mf.n_periods)

    # Out-of-fold predictions by trial params: the best trial's are the chosen model's (same configuration, folds
    # and seed give the same frame), so they are not computed again when that trial ran here.
    oof_by_params: dict[tuple, pd.DataFrame] = {}

    def objective(trial: optuna.Trial) -> float:
        config = suggest_config(trial, candidates, feature_sets, mf.n_brands)
        oof = cross_validate(mf, config, transform, folds, seed, trial)
        oof_by_params[tuple(sorted(trial.params.items()))] = oof
        return oof_rmse(oof)

    name = study_name(MODEL_KIND, project_id, None, target, data_version)
    study = (
        study_factory(name, "minimize")
        if study_factory is not None
        else in_memory_study(name, "minimize", settings, n_brands=mf.n_brands)
    )
    summary = optimize(study, objective, settings, default_params=default_trial_params(mf.n_brands))
    if not summary.best_params:
        return OutcomeModelResult(
            "failed",
            f"no trial completed: {summary.n_pruned} pruned, {summary.n_failed} failed",
            transform=transform.name,
            study=summary,
            **base,
        )

    config = config_from_params(summary.best_params)
    oof = oof_by_params.get(tuple(sorted(summary.best_params.items())))
    if oof is None:  # the best trial ran in an earlier materialization of a resumed study
        oof = cross_validate(mf, config, transform, folds, seed)
    metrics = cv_metrics(oof, len(folds))
    validated, why = _validation(metrics, corr, 1.0 - confidence_level)

    x = mf.data[config.input_columns()]
    estimator = fit_quietly(build_estimator(config, transform, seed), x, y)
    estimate = outcome_per_dc_point(estimator, config, x, y, transform)
    effect = effect_interval(
        mf.data,
        target,
        config,
        transform,
        estimate=estimate,
        confidence_level=confidence_level,
        seed=seed,
        n_boot=n_boot,
    )
    return OutcomeModelResult(
        "ok",
        None,
        transform=transform.name,
        chosen=config.as_dict(),
        cv_metrics=metrics,
        validated=validated,
        validation_reason=why,
        coefficients=coefficients_frame(estimator, config),
        permutation_importance=permutation_importance_frame(estimator, x, y, seed),
        oof_predictions=oof,
        outcome_per_dc_point=effect,
        estimator=estimator,
        study=summary,
        **base,
    )
