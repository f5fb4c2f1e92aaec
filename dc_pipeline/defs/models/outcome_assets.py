"""`outcome_models` (per project): tuned score->outcome models of every available outcome (SPEC §6a)."""

import time
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.adapters import model_registry
from dc_pipeline.defs.models import inputs
from dc_pipeline.defs.models.resources import ModelStoreResource, OptunaResource, OutcomeModelConfig
from dc_pipeline.defs.models.tuning_run import StudyLedger, json_columns, study_row, summary_dict, tuning_metadata
from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.reports.runtime import code_version
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.domain.outcome_models import OutcomeModelResult, fit_outcome_model
from dc_pipeline.domain.outcome_models.fit import MODEL_KIND
from dc_pipeline.domain.partition_keys import project_id_of
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS
from dc_pipeline.domain.tuning import study_name

OUTCOME_TABLES = ["outcome_model_results", "outcome_model_coefficients", "outcome_model_importance",
                  "outcome_model_oof"]
RESULT_COLUMNS = [
    "project_id", "target", "status", "reason", "n_obs", "n_periods", "n_brands", "transform", "candidate",
    "feature_set", "brand_fe", "params", "rmse", "mae", "r2", "skill", "baseline_rmse", "n_folds", "validated",
    "validation_reason", "effect_estimate", "effect_ci_low", "effect_ci_high", "effect_level", "effect_intervals",
    "dc_pearson_r", "dc_pearson_p", "correlation", "study_name", "model_id", "model_data_version",
]

# Tuned assets re-tune weekly or when their inputs change (SPEC §6d); a rerun on unchanged data
# resumes the finished study and so reuses its best parameters.
RETUNE = dg.AutomationCondition.on_cron("0 4 * * 0") | dg.AutomationCondition.eager()


def _missing_outcome(target: str, obs: pd.DataFrame, project_id: int) -> str | None:
    if obs[target].notna().any():
        return None
    return f"missing outcome: {target} is null for all {len(obs)} brand-periods of project {project_id}"


def _result_row(project_id: int, result: OutcomeModelResult, model_id: str | None, version: str) -> dict:
    chosen, metrics, effect = result.chosen or {}, result.cv_metrics or {}, result.outcome_per_dc_point or {}
    pearson = (result.correlation or {}).get("pearson") or {}
    return {
        "project_id": project_id, "target": result.target, "status": result.status, "reason": result.reason,
        "n_obs": result.n_obs, "n_periods": result.n_periods, "n_brands": result.n_brands,
        "transform": result.transform, "candidate": chosen.get("candidate"), "feature_set": chosen.get("feature_set"),
        "brand_fe": chosen.get("brand_fe"), "params": chosen.get("params") or {},
        **{k: metrics.get(k, np.nan) for k in ("rmse", "mae", "r2", "skill", "baseline_rmse")},
        "n_folds": metrics.get("n_folds"), "validated": bool(result.validated),
        "validation_reason": result.validation_reason, "effect_estimate": effect.get("estimate", np.nan),
        "effect_ci_low": effect.get("ci_low", np.nan), "effect_ci_high": effect.get("ci_high", np.nan),
        "effect_level": effect.get("level", np.nan), "effect_intervals": effect.get("intervals") or {},
        "dc_pearson_r": pearson.get("r", np.nan), "dc_pearson_p": pearson.get("p", np.nan),
        "correlation": result.correlation or {}, "study_name": result.study.study_name if result.study else None,
        "model_id": model_id, "model_data_version": version,
    }


def _fit_key(version: str, seed: int, confidence_level: float, min_data_points: int, n_boot: int) -> str:
    """Everything besides the study that determines a fit: same key, same result."""
    return f"{version}|seed={seed}|cl={confidence_level}|min={min_data_points}|boot={n_boot}|{code_version()}"


def _stored_result(root: Path, model_id: str, key: str, ledger: StudyLedger, n_trials: int):
    """The stored fit of this model when nothing would change: same data, settings and code, and
    a study that has already used its trial budget (a refit would reuse its best parameters and
    reproduce the same result, SPEC §6d). None otherwise."""
    path = model_registry.artifact_path(root, model_id)
    if not path.is_file():
        return None
    bundle = model_registry.load_artifact(path)
    if not isinstance(bundle, dict) or bundle.get("fit_key") != key:
        return None
    study = ledger(model_id, "minimize")  # the model id is the study name
    finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
    return bundle["result"] if finished >= n_trials else None


def _tagged(frame: pd.DataFrame, project_id: int, target: str) -> pd.DataFrame:
    return frame.assign(project_id=project_id, target=target)


def _metadata_table(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)
    frame["outcome_per_dc_point"] = [
        "" if np.isnan(r["effect_estimate"]) else
        f"{r['effect_estimate']:.4g} [{r['effect_ci_low']:.4g}, {r['effect_ci_high']:.4g}]" for r in rows]
    shown = frame[["target", "status", "candidate", "feature_set", "skill", "validated", "outcome_per_dc_point",
                   "reason"]].copy()
    shown["reason"] = [r["reason"] or r["validation_reason"] for r in rows]
    return shown.to_markdown(index=False, floatfmt=".3f")


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    deps=["dc_scores", "validated_outcomes"],
    group_name="models",
    pool="optuna",
    kinds={"optuna", "scikitlearn", "postgres"},
    metadata={"dc/schema": "dc_models", "dc/tables": OUTCOME_TABLES},
    automation_condition=RETUNE,
    description="Tuned score->outcome models per outcome target: chosen model, holdout skill against the "
    "mean baseline, outcome change per DC point with a bootstrap CI (SPEC §6a).",
)
def outcome_models(context: dg.AssetExecutionContext, config: OutcomeModelConfig,
                   reference_snapshot: dict[str, pd.DataFrame], pipeline_db: PostgresResource,
                   optuna: OptunaResource, model_store: ModelStoreResource, settings: SettingsResource):
    started = time.perf_counter()
    system = settings.load()
    tuning = optuna.settings(system.optimization_config, config)
    seed = config.seed if config.seed is not None else system.random_seed
    analysis = system.analysis_config
    results, coefs, importance, oof, study_rows, metadata, reused = [], [], [], [], [], {}, []
    registry: list[model_registry.RegistryEntry] = []
    for key in context.partition_keys:
        project_id = project_id_of(key)
        with pipeline_db.connection() as conn:
            scores = inputs.timeline_scores(conn, reference_snapshot, project_id)
            outcomes = inputs.timeline_outcomes(conn, reference_snapshot, project_id)
        obs = inputs.outcome_observations(scores, outcomes, project_id)
        ledger = StudyLedger(optuna.study_factory(tuning, n_brands=int(obs["brand_id"].nunique())))
        rows = []
        for target in OUTCOME_COLUMNS:
            target_obs = obs[["brand_id", "period", "dc", *SECTIONS, target]]
            version = inputs.version_hex(target_obs.dropna(subset=[target]))
            missing = _missing_outcome(target, obs, project_id)
            model_id = study_name(MODEL_KIND, project_id, None, target, version)
            key = _fit_key(version, seed, analysis.default_confidence_level, analysis.min_data_points,
                           config.bootstrap_reps)
            result = None if missing else _stored_result(model_store.root(), model_id, key, ledger, tuning.n_trials)
            if missing:
                result = OutcomeModelResult("missing_input", missing, target, 0, 0, 0,
                                            {"status": "missing_input", "reason": missing})
            elif result is not None:
                reused.append(target)
            else:
                context.log.info(f"p{project_id} {target}: tuning on {int(obs[target].notna().sum())} observations")
                result = fit_outcome_model(
                    target_obs, target, project_id=project_id, data_version=version, settings=tuning,
                    study_factory=ledger, confidence_level=analysis.default_confidence_level,
                    min_data_points=analysis.min_data_points, seed=seed, n_boot=config.bootstrap_reps)
            if result.status == "ok":
                path = model_registry.save_artifact(model_store.root(), model_id, {"fit_key": key, "result": result})
                registry.append(model_registry.RegistryEntry(
                    model_id=model_id, kind=MODEL_KIND, project_id=project_id, brand_id=None, target=target,
                    study_name=result.study.study_name if result.study else None, status=result.status,
                    validated=result.validated, best_params=result.study.best_params if result.study else {},
                    cv_metrics=result.cv_metrics or {}, data_version=version, code_version=code_version(),
                    artifact_path=str(path), run_id=context.run_id))
                coefs.append(_tagged(result.coefficients, project_id, target))
                importance.append(_tagged(result.permutation_importance, project_id, target))
                oof.append(_tagged(result.oof_predictions, project_id, target))
            else:
                model_id = None
            rows.append(_result_row(project_id, result, model_id, version))
            study_rows.append(study_row(f"p{project_id}/{target}", summary_dict(result.study), ledger))
        results.extend(rows)
        metadata[f"p{project_id}"] = dg.MetadataValue.md(_metadata_table(rows))
    with pipeline_db.connection() as conn:
        model_registry.register(conn, registry)
    frames = {
        "outcome_model_results": json_columns(pd.DataFrame(results, columns=RESULT_COLUMNS),
                                               ["params", "effect_intervals", "correlation"], {}),
        "outcome_model_coefficients": _concat(coefs, ["term", "coef_standardised", "coef_per_unit"]),
        "outcome_model_importance": _concat(importance, ["feature", "importance_mean", "importance_sd"]),
        "outcome_model_oof": _concat(oof, ["brand_id", "period", "fold", "actual", "predicted", "baseline"]),
    }
    table = frames["outcome_model_results"]
    summary = {
        "targets_fitted": dg.MetadataValue.int(int((table["status"] == "ok").sum())),
        "targets_validated": dg.MetadataValue.int(int(table["validated"].sum())),
        "targets_not_fitted": dg.MetadataValue.int(int((table["status"] != "ok").sum())),
        "models_registered": dg.MetadataValue.int(len(registry)),
        "models_reused": dg.MetadataValue.int(len(reused)),
        "tuning_settings": dg.MetadataValue.json(
            vars(tuning) | {"seed": seed, "bootstrap_reps": config.bootstrap_reps}),
    }
    return dg.Output(frames, metadata={**summary, **metadata, **tuning_metadata(study_rows, started)})


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    keys = ["project_id", "target"]
    if not frames:
        return pd.DataFrame(columns=[*keys, *columns])
    return pd.concat(frames, ignore_index=True).loc[:, [*keys, *columns]]
