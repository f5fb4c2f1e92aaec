"""The plans of one brand and the tables `brand_recommendations` stores (SPEC §6c)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.data_version import version_hex
from dc_pipeline.domain.json_values import json_columns
from dc_pipeline.domain.panels import latest_metric_rows
from dc_pipeline.domain.recommendations.project_tuning import SharedGaTuning, ga_study_name
from dc_pipeline.domain.recommendations.recommend import RecommendationResult, recommend
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.settings import OptimizerConfig
from dc_pipeline.domain.tuning_settings import TuningSettings

PLAN_COLUMNS = ["project_id", "brand_id", "period", "plan_id", "is_knee", "reaches_targets", "delta_dc", "effort",
                "n_metrics_changed", "outcome_change", "metrics"]  # fmt: skip
SUMMARY_COLUMNS = [
    "project_id", "brand_id", "period", "status", "reason", "n_metrics", "excluded_metrics", "max_delta_dc",
    "n_plans", "knee_plan_id", "targets", "hypervolume", "oracle_hypervolume", "oracle_hypervolume_ratio",
    "ga_params", "study_name", "outcome_model_id", "outcome_validated", "model_data_version",
]  # fmt: skip


@dataclass
class BrandPlans:
    project_id: int
    brand_id: int
    period: object
    version: str
    result: RecommendationResult
    effect: dict | None


def recommend_brand(
    scores: DcScores,
    metrics: pd.DataFrame,
    project_id: int,
    brand_id: int,
    *,
    config: OptimizerConfig,
    settings: TuningSettings,
    study_factory: Callable[[int], Callable],
    seed: int,
    effect: dict | None,
    shared: SharedGaTuning | None = None,
) -> BrandPlans:
    """Plans for one brand's latest period; `study_factory(n_metrics)` opens the GA-tuning studies. With `shared`
    (the project's GA tuning, project_tuning.py) a brand other than the tuning brand runs no study of its own;
    the tuning brand reads its finished study back."""
    rows = latest_metric_rows(scores, metrics, project_id, brand_id)
    period = rows["period"].iloc[0] if len(rows) else pd.NaT
    version = version_hex(rows)
    if rows.empty:
        reason = f"no scored metrics for brand {brand_id} in project {project_id}"
        return BrandPlans(project_id, brand_id, period, version, RecommendationResult("insufficient_data", reason),
                          effect)  # fmt: skip
    result = recommend(
        rows, config=config, settings=settings, study_factory=study_factory(len(rows)),
        name=ga_study_name(project_id, brand_id, rows), seed=seed, outcome_per_dc_point=effect, brand_id=brand_id,
        tuned=None if shared is None else (shared.values, shared.summary),
    )  # fmt: skip
    return BrandPlans(project_id, brand_id, period, version, result, effect)


def plan_rows(result: RecommendationResult, project_id: int, brand_id: int, period) -> list[dict]:
    reaches: dict[int, list[int]] = {}
    for target, plan in result.targets.items():
        if isinstance(plan, dict):
            reaches.setdefault(plan["plan_id"], []).append(int(target))
    knee_id = result.knee["plan_id"] if result.knee else None
    return [
        {
            "project_id": project_id,
            "brand_id": brand_id,
            "period": period,
            "plan_id": p["plan_id"],
            "is_knee": p["plan_id"] == knee_id,
            "reaches_targets": reaches.get(p["plan_id"], []),
            "delta_dc": p["delta_dc"],
            "effort": p["effort"],
            "n_metrics_changed": p["n_metrics_changed"],
            "outcome_change": p.get("outcome_change"),
            "metrics": p["metrics"],
        }
        for p in result.plans
    ]


def summary_row(
    result: RecommendationResult, project_id: int, brand_id: int, period, effect: dict | None, version: str
) -> dict:
    targets = {f"+{t}": (f"plan {v['plan_id']}" if isinstance(v, dict) else v) for t, v in result.targets.items()}
    return {
        "project_id": project_id,
        "brand_id": brand_id,
        "period": period,
        "status": result.status,
        "reason": result.reason,
        "n_metrics": result.n_metrics,
        "excluded_metrics": result.excluded_metrics,
        "max_delta_dc": np.nan if result.max_delta_dc is None else result.max_delta_dc,
        "n_plans": len(result.plans),
        "knee_plan_id": result.knee["plan_id"] if result.knee else None,
        "targets": targets,
        "hypervolume": _num(result.hypervolume),
        "oracle_hypervolume": _num(result.oracle_hypervolume),
        "oracle_hypervolume_ratio": _num(result.oracle_hypervolume_ratio),
        "ga_params": result.ga_params,
        "study_name": (result.study or {}).get("study_name"),
        "outcome_model_id": effect.get("model_id") if effect else None,
        "outcome_validated": bool(effect and effect.get("validated")),
        "model_data_version": version,
    }


def _num(value) -> float:
    return np.nan if value is None else float(value)


def recommendation_tables(brands: list[BrandPlans]) -> dict[str, pd.DataFrame]:
    plans = [row for b in brands for row in plan_rows(b.result, b.project_id, b.brand_id, b.period)]
    summaries = [summary_row(b.result, b.project_id, b.brand_id, b.period, b.effect, b.version) for b in brands]
    plan_frame = json_columns(pd.DataFrame(plans, columns=PLAN_COLUMNS), ["reaches_targets", "metrics"], [])
    summary_frame = pd.DataFrame(summaries, columns=SUMMARY_COLUMNS)
    return {
        "brand_recommendation_plans": json_columns(plan_frame, ["outcome_change"]),
        "brand_recommendation_summaries": json_columns(summary_frame, ["excluded_metrics", "targets", "ga_params"], {}),
    }
