"""`brand_recommendations` (per project × brand): GA Pareto plans tuned by Optuna (SPEC §6c)."""

import time

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.defs.io_manager import read_table
from dc_pipeline.defs.models import inputs
from dc_pipeline.defs.models.outcome_assets import RETUNE
from dc_pipeline.defs.models.resources import OptunaResource, RecommendationConfig
from dc_pipeline.defs.models.tuning_run import StudyLedger, json_columns, study_row, tuning_metadata
from dc_pipeline.defs.pair_membership import not_tracked_metadata, run_pairs, split_tracked
from dc_pipeline.defs.partitions import project_brand_partitions, project_of_pair, pair_backfill_policy
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.defs.scoring.assets import DC_SCORE_TABLES, from_tables
from dc_pipeline.domain.recommendations import RecommendationResult, recommend
from dc_pipeline.domain.tuning import study_name

GA_KIND = "ga_recommendation"
PLAN_COLUMNS = ["project_id", "brand_id", "period", "plan_id", "is_knee", "reaches_targets", "delta_dc", "effort",
                "n_metrics_changed", "outcome_change", "metrics"]
SUMMARY_COLUMNS = [
    "project_id", "brand_id", "period", "status", "reason", "n_metrics", "excluded_metrics", "max_delta_dc",
    "n_plans", "knee_plan_id", "targets", "hypervolume", "oracle_hypervolume", "oracle_hypervolume_ratio",
    "ga_params", "study_name", "outcome_model_id", "outcome_validated", "model_data_version",
]


def _optimizer_config(system, run: RecommendationConfig):
    overrides = {k: getattr(run, k) for k in ("max_uplift_points", "max_metrics_changed", "ga_max_evaluations")
                 if getattr(run, k) is not None}
    return system.optimizer_config.model_copy(update=overrides)


def _project_scores(conn, project_id: int):
    return from_tables({t: read_table(conn, f"dc_core.{t}", {"project_id": [project_id]})
                        for t in DC_SCORE_TABLES.values()})


def _plan_rows(result: RecommendationResult, project_id: int, brand_id: int, period) -> list[dict]:
    reaches: dict[int, list[int]] = {}
    for target, plan in result.targets.items():
        if isinstance(plan, dict):
            reaches.setdefault(plan["plan_id"], []).append(int(target))
    knee_id = result.knee["plan_id"] if result.knee else None
    return [{
        "project_id": project_id, "brand_id": brand_id, "period": period, "plan_id": p["plan_id"],
        "is_knee": p["plan_id"] == knee_id, "reaches_targets": reaches.get(p["plan_id"], []),
        "delta_dc": p["delta_dc"], "effort": p["effort"], "n_metrics_changed": p["n_metrics_changed"],
        "outcome_change": p.get("outcome_change"), "metrics": p["metrics"],
    } for p in result.plans]


def _summary_row(result: RecommendationResult, project_id: int, brand_id: int, period, effect: dict | None,
                 version: str) -> dict:
    targets = {f"+{t}": (f"plan {v['plan_id']}" if isinstance(v, dict) else v) for t, v in result.targets.items()}
    return {
        "project_id": project_id, "brand_id": brand_id, "period": period, "status": result.status,
        "reason": result.reason, "n_metrics": result.n_metrics, "excluded_metrics": result.excluded_metrics,
        "max_delta_dc": np.nan if result.max_delta_dc is None else result.max_delta_dc,
        "n_plans": len(result.plans), "knee_plan_id": result.knee["plan_id"] if result.knee else None,
        "targets": targets, "hypervolume": _num(result.hypervolume),
        "oracle_hypervolume": _num(result.oracle_hypervolume),
        "oracle_hypervolume_ratio": _num(result.oracle_hypervolume_ratio), "ga_params": result.ga_params,
        "study_name": (result.study or {}).get("study_name"),
        "outcome_model_id": effect.get("model_id") if effect else None,
        "outcome_validated": bool(effect and effect.get("validated")), "model_data_version": version,
    }


def _num(value) -> float:
    return np.nan if value is None else float(value)


def _pair_markdown(rows: list[dict]) -> str:
    frame = pd.DataFrame(rows)[["project_id", "brand_id", "status", "n_metrics", "n_plans", "max_delta_dc",
                                "hypervolume", "targets", "outcome_validated", "reason"]]
    return frame.to_markdown(index=False, floatfmt=".3f")


@dg.asset(
    partitions_def=project_brand_partitions,
    backfill_policy=pair_backfill_policy,
    deps=[dg.AssetDep("dc_scores", partition_mapping=project_of_pair),
          dg.AssetDep("outcome_models", partition_mapping=project_of_pair)],
    group_name="models",
    pool="optuna",
    kinds={"optuna", "postgres"},
    metadata={"dc/schema": "dc_core", "dc/tables": ["brand_recommendation_plans", "brand_recommendation_summaries"]},
    automation_condition=RETUNE,
    description="NSGA-II Pareto plans (ΔDC vs effort) for the brand's latest period with the knee plan, the "
    "cheapest plans reaching +1/+3/+5 and each plan's outcome change from the validated revenue model (SPEC §6c).",
)
def brand_recommendations(context: dg.AssetExecutionContext, config: RecommendationConfig,
                          reference_snapshot: dict[str, pd.DataFrame], pipeline_db: PostgresResource,
                          optuna: OptunaResource, settings: SettingsResource):
    started = time.perf_counter()
    system = settings.load()
    tuning = optuna.settings(system.optimization_config, config)
    optimizer = _optimizer_config(system, config)
    seed = config.seed if config.seed is not None else system.random_seed
    tracked, untracked = split_tracked(run_pairs(context), reference_snapshot["ref_project_brands"])
    plans, summaries, study_rows = [], [], []
    for project_id in sorted({p for p, _ in tracked}):
        with pipeline_db.connection() as conn:
            scores = _project_scores(conn, project_id)
            metrics = inputs.read_project_metrics(conn, project_id)
            effect = inputs.validated_outcome_effect(conn, project_id, "revenue")
        n_brands = len(inputs.member_brands(reference_snapshot, project_id))
        for _, brand_id in [pair for pair in tracked if pair[0] == project_id]:
            rows = inputs.latest_metric_rows(scores, metrics, project_id, brand_id)
            period = rows["period"].iloc[0] if len(rows) else pd.NaT
            version = inputs.version_hex(rows)
            ledger = StudyLedger(optuna.study_factory(tuning, n_brands=n_brands, n_metrics=len(rows)))
            name = study_name(GA_KIND, project_id, brand_id, "dc_gain", version)
            if rows.empty:
                result = RecommendationResult(
                    "insufficient_data", f"no scored metrics for brand {brand_id} in project {project_id}")
            else:
                result = recommend(rows, config=optimizer, settings=tuning, study_factory=ledger, name=name,
                                   seed=seed, outcome_per_dc_point=effect, brand_id=brand_id)
            plans.extend(_plan_rows(result, project_id, brand_id, period))
            summaries.append(_summary_row(result, project_id, brand_id, period, effect, version))
            study_rows.append(study_row(f"p{project_id}/b{brand_id}", result.study, ledger))
    metadata = {**not_tracked_metadata(untracked), "pairs_tracked": dg.MetadataValue.int(len(tracked))}
    if not tracked:
        # Nothing to compute: no rows are written and the metadata says why.
        return dg.Output({}, metadata=metadata)
    metadata["recommendations"] = dg.MetadataValue.md(_pair_markdown(summaries))
    plan_frame = json_columns(pd.DataFrame(plans, columns=PLAN_COLUMNS), ["reaches_targets", "metrics"], [])
    frames = {"brand_recommendation_plans": json_columns(plan_frame, ["outcome_change"]),
              "brand_recommendation_summaries": json_columns(pd.DataFrame(summaries, columns=SUMMARY_COLUMNS),
                                                             ["excluded_metrics", "targets", "ga_params"], {})}
    return dg.Output(frames, metadata={**metadata, **tuning_metadata(study_rows, started)})
