"""Every outcome model of one project (SPEC §6a) and the tables `outcome_models` stores.

`fit_project_outcomes` fits (or reuses) one model per outcome column; side effects come in as callables: the
Optuna study factory and `stored(model_id, fit_key)`, which returns a previous fit when nothing would change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.data_version import version_hex
from dc_pipeline.domain.json_values import json_columns
from dc_pipeline.domain.outcome_models.availability import missing_outcome_reason
from dc_pipeline.domain.outcome_models.fit import MODEL_KIND, OutcomeModelResult, fit_outcome_model
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS
from dc_pipeline.domain.tuning_settings import TuningSettings, study_name

RESULT_COLUMNS = [
    "project_id", "target", "status", "reason", "n_obs", "n_periods", "n_brands", "transform", "candidate",
    "feature_set", "brand_fe", "params", "rmse", "mae", "r2", "skill", "baseline_rmse", "n_folds", "validated",
    "validation_reason", "effect_estimate", "effect_ci_low", "effect_ci_high", "effect_level", "effect_intervals",
    "effect_inference", "dc_pearson_r", "dc_pearson_p", "correlation", "study_name", "model_id", "model_data_version",
]  # fmt: skip
_DETAIL_COLUMNS = {
    "outcome_model_coefficients": ["term", "coef_standardised", "coef_per_unit"],
    "outcome_model_importance": ["feature", "importance_mean", "importance_sd"],
    "outcome_model_oof": ["brand_id", "period", "fold", "actual", "predicted", "baseline"],
}


@dataclass
class TargetFit:
    project_id: int
    target: str
    model_id: str  # the study name; the registry id when the fit is ok
    version: str  # hex data version of the target's observations
    fit_key: str  # everything besides the study that determines the fit
    result: OutcomeModelResult
    reused: bool = False

    @property
    def ok(self) -> bool:
        return self.result.status == "ok"


def fit_key(version: str, seed: int, confidence_level: float, min_data_points: int, n_boot: int, code: str) -> str:
    """Same key, same result (given a finished study)."""
    return f"{version}|seed={seed}|cl={confidence_level}|min={min_data_points}|boot={n_boot}|{code}"


def fit_project_outcomes(
    obs: pd.DataFrame,
    project_id: int,
    *,
    settings: TuningSettings,
    study_factory: Callable,
    confidence_level: float,
    min_data_points: int,
    seed: int,
    n_boot: int,
    code_version: str,
    stored: Callable[[str, str], OutcomeModelResult | None] = lambda model_id, key: None,
    log: Callable[[str], None] = lambda message: None,
) -> list[TargetFit]:
    """One fit per outcome column of `obs` (brand_id, period, dc, the sections, the outcomes)."""
    fits = []
    for target in OUTCOME_COLUMNS:
        target_obs = obs[["brand_id", "period", "dc", *SECTIONS, target]]
        version = version_hex(target_obs.dropna(subset=[target]))
        model_id = study_name(MODEL_KIND, project_id, None, target, version)
        key = fit_key(version, seed, confidence_level, min_data_points, n_boot, code_version)
        missing = missing_outcome_reason(target, obs[target], f"project {project_id}")
        if missing:
            result = OutcomeModelResult("missing_input", missing, target, 0, 0, 0,
                                        {"status": "missing_input", "reason": missing})  # fmt: skip
            fits.append(TargetFit(project_id, target, model_id, version, key, result))
            continue
        previous = stored(model_id, key)
        if previous is not None:
            fits.append(TargetFit(project_id, target, model_id, version, key, previous, reused=True))
            continue
        log(f"p{project_id} {target}: tuning on {int(obs[target].notna().sum())} observations")
        result = fit_outcome_model(
            target_obs, target, project_id=project_id, data_version=version, settings=settings,
            study_factory=study_factory, confidence_level=confidence_level, min_data_points=min_data_points,
            seed=seed, n_boot=n_boot,
        )  # fmt: skip
        fits.append(TargetFit(project_id, target, model_id, version, key, result))
    return fits


def _inference(effect: dict) -> dict:
    """How the effect interval was made: method, specification, p-value for no effect, or why there is none."""
    if not effect:
        return {}
    return {"p_value": effect.get("p_value"), "ci_reason": effect.get("ci_reason"), **effect.get("inference", {})}


def _result_row(fit: TargetFit) -> dict:
    result = fit.result
    chosen, metrics, effect = result.chosen or {}, result.cv_metrics or {}, result.outcome_per_dc_point or {}
    pearson = (result.correlation or {}).get("pearson") or {}
    return {
        "project_id": fit.project_id, "target": result.target, "status": result.status, "reason": result.reason,
        "n_obs": result.n_obs, "n_periods": result.n_periods, "n_brands": result.n_brands,
        "transform": result.transform, "candidate": chosen.get("candidate"), "feature_set": chosen.get("feature_set"),
        "brand_fe": chosen.get("brand_fe"), "params": chosen.get("params") or {},
        **{k: metrics.get(k, np.nan) for k in ("rmse", "mae", "r2", "skill", "baseline_rmse")},
        "n_folds": metrics.get("n_folds"), "validated": bool(result.validated),
        "validation_reason": result.validation_reason, "effect_estimate": effect.get("estimate", np.nan),
        "effect_ci_low": effect.get("ci_low", np.nan), "effect_ci_high": effect.get("ci_high", np.nan),
        "effect_level": effect.get("level", np.nan), "effect_intervals": effect.get("intervals") or {},
        "effect_inference": _inference(effect),
        "dc_pearson_r": pearson.get("r", np.nan), "dc_pearson_p": pearson.get("p", np.nan),
        "correlation": result.correlation or {}, "study_name": result.study.study_name if result.study else None,
        "model_id": fit.model_id if fit.ok else None, "model_data_version": fit.version,
    }  # fmt: skip


def _details(fits: list[TargetFit], field: str, table: str) -> pd.DataFrame:
    columns = ["project_id", "target", *_DETAIL_COLUMNS[table]]
    frames = [getattr(f.result, field).assign(project_id=f.project_id, target=f.target) for f in fits if f.ok]
    return pd.concat(frames, ignore_index=True).loc[:, columns] if frames else pd.DataFrame(columns=columns)


def outcome_tables(fits: list[TargetFit]) -> dict[str, pd.DataFrame]:
    results = pd.DataFrame([_result_row(f) for f in fits], columns=RESULT_COLUMNS)
    return {
        "outcome_model_results": json_columns(
            results, ["params", "effect_intervals", "effect_inference", "correlation"], {}
        ),
        "outcome_model_coefficients": _details(fits, "coefficients", "outcome_model_coefficients"),
        "outcome_model_importance": _details(fits, "permutation_importance", "outcome_model_importance"),
        "outcome_model_oof": _details(fits, "oof_predictions", "outcome_model_oof"),
    }


def results_overview(results: pd.DataFrame) -> pd.DataFrame:
    """What a person reads first: per target the status, model, skill, validation and the outcome per DC point
    with its interval."""
    effect = [
        ""
        if np.isnan(r.effect_estimate)
        else f"{r.effect_estimate:.4g} [{r.effect_ci_low:.4g}, {r.effect_ci_high:.4g}]"
        for r in results.itertuples()
    ]
    shown = results[["target", "status", "candidate", "feature_set", "skill", "validated"]].copy()
    shown["outcome_per_dc_point"] = effect
    shown["reason"] = [r.reason or r.validation_reason for r in results.itertuples()]
    return shown
