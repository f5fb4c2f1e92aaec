"""Candidate estimators and their Optuna search space (SPEC §6a)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import optuna
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import ElasticNet, Ridge
from sklearn.pipeline import Pipeline

from dc_pipeline.domain.outcome_models.encoding import ScoreEncoder
from dc_pipeline.domain.outcome_models.features import feature_columns
from dc_pipeline.domain.outcome_models.transforms import TargetTransform

LINEAR_CANDIDATES: tuple[str, ...] = ("ridge", "elasticnet")
HGB_MIN_OBS = 40


def available_candidates(n_obs: int) -> list[str]:
    return [*LINEAR_CANDIDATES, *(["hgb"] if n_obs >= HGB_MIN_OBS else [])]


@dataclass(frozen=True)
class ModelConfig:
    candidate: str
    feature_set: str
    brand_fe: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_linear(self) -> bool:
        return self.candidate in LINEAR_CANDIDATES

    def input_columns(self) -> list[str]:
        """Columns of the modelling frame the estimator reads (brand_id only with fixed effects)."""
        return [*feature_columns(self.feature_set), *(["brand_id"] if self.brand_fe else [])]

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "feature_set": self.feature_set,
            "brand_fe": self.brand_fe,
            "params": dict(self.params),
            "input_columns": self.input_columns(),
        }


# Optuna parameter names carry the candidate prefix so each has one distribution per study.
def suggest_config(trial: optuna.Trial, candidates: list[str], feature_sets: list[str], n_brands: int) -> ModelConfig:
    candidate = trial.suggest_categorical("candidate", candidates)
    feature_set = trial.suggest_categorical("feature_set", feature_sets)
    brand_fe = False
    if candidate in LINEAR_CANDIDATES and n_brands >= 2:
        brand_fe = trial.suggest_categorical("brand_fe", [False, True])
    if candidate == "ridge":
        params = {"alpha": trial.suggest_float("ridge_alpha", 1e-3, 1e3, log=True)}
    elif candidate == "elasticnet":
        params = {
            "alpha": trial.suggest_float("enet_alpha", 1e-3, 1e3, log=True),
            "l1_ratio": trial.suggest_float("enet_l1_ratio", 0.0, 1.0),
        }
    else:
        params = {
            "learning_rate": trial.suggest_float("hgb_learning_rate", 0.01, 0.3, log=True),
            "max_depth": trial.suggest_int("hgb_max_depth", 2, 6),
            "max_iter": trial.suggest_int("hgb_max_iter", 50, 500),
            "min_samples_leaf": trial.suggest_int("hgb_min_samples_leaf", 5, 30),
            "l2_regularization": trial.suggest_float("hgb_l2_regularization", 1e-4, 10.0, log=True),
        }
    return ModelConfig(candidate, feature_set, brand_fe, params)


_PREFIX = {"ridge": "ridge_", "elasticnet": "enet_", "hgb": "hgb_"}


def config_from_params(params: dict[str, Any]) -> ModelConfig:
    """Rebuild the configuration of a finished trial from its Optuna params."""
    candidate = params["candidate"]
    prefix = _PREFIX[candidate]
    own = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
    return ModelConfig(candidate, params["feature_set"], bool(params.get("brand_fe", False)), own)


def default_trial_params(n_brands: int) -> dict[str, Any]:
    """Enqueued first: plain ridge on DC, the reference the tuned result is compared with."""
    params: dict[str, Any] = {"candidate": "ridge", "feature_set": "dc"}
    if n_brands >= 2:
        params["brand_fe"] = False
    params["ridge_alpha"] = 1.0
    return params


def build_estimator(config: ModelConfig, transform: TargetTransform, seed: int) -> TransformedTargetRegressor:
    """Scaler (+ brand one-hot) -> regressor, wrapped so predictions are on the original scale."""
    prep = ScoreEncoder(tuple(feature_columns(config.feature_set)), config.brand_fe)
    if config.candidate == "ridge":
        model = Ridge(alpha=config.params["alpha"])
    elif config.candidate == "elasticnet":
        model = ElasticNet(
            alpha=config.params["alpha"], l1_ratio=config.params["l1_ratio"], max_iter=20_000, random_state=seed
        )
    elif config.candidate == "hgb":
        model = HistGradientBoostingRegressor(early_stopping=False, random_state=seed, **config.params)
    else:
        raise ValueError(f"unknown candidate {config.candidate!r}")
    func, inverse = transform.functions
    return TransformedTargetRegressor(
        regressor=Pipeline([("prep", prep), ("model", model)]), func=func, inverse_func=inverse, check_inverse=False
    )
