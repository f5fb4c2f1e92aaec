"""Entry point of the recommendation optimizer (SPEC §6c) for one brand's latest period."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dc_pipeline.domain.recommendations.hypervolume import hypervolume
from dc_pipeline.domain.recommendations.nsga2 import run_nsga2
from dc_pipeline.domain.recommendations.oracle import water_filling_front
from dc_pipeline.domain.recommendations.plans import (
    DC_TARGETS,
    knee_index,
    pareto_front,
    plan_dict,
    target_indices,
    thin_by_crowding,
)
from dc_pipeline.domain.recommendations.problem import build_problem, missing_columns
from dc_pipeline.domain.recommendations.tune import StudyFactory, params_from_values, tune_ga
from dc_pipeline.domain.settings import OptimizerConfig
from dc_pipeline.domain.tuning import StudySummary, TuningSettings


@dataclass
class RecommendationResult:
    status: str  # 'ok' | 'insufficient_data' | 'missing_input'
    reason: str | None = None
    n_metrics: int = 0  # decision metrics |M|
    excluded_metrics: dict[str, int] = field(default_factory=dict)  # reason -> count left out
    max_delta_dc: float | None = None  # Σ e_m·(u_m − s_m): every metric at its bound
    plans: list[dict] = field(default_factory=list)  # thinned front (<= 50), by effort ascending
    knee: dict | None = None
    targets: dict[int, dict | str] = field(default_factory=dict)  # {1: plan | statement, 3: ..., 5: ...}
    front_delta_dc: np.ndarray = field(default_factory=lambda: np.empty(0))  # the full final front
    front_effort: np.ndarray = field(default_factory=lambda: np.empty(0))
    hypervolume: float | None = None  # normalised, of the full final front
    oracle_hypervolume: float | None = None  # only when |M| <= K (the oracle is exact then)
    oracle_hypervolume_ratio: float | None = None
    ga_params: dict = field(default_factory=dict)
    study: dict | None = None  # StudySummary.as_metadata() plus top_trials


def recommend(
    metric_rows: pd.DataFrame,
    *,
    config: OptimizerConfig,
    settings: TuningSettings,
    study_factory: StudyFactory | None = None,
    name: str,
    seed: int = 42,
    restrict_sections: list[str] | None = None,
    outcome_per_dc_point: dict | None = None,
    brand_id: int | None = None,
    tuned: tuple[dict, StudySummary] | None = None,
) -> RecommendationResult:
    """Tune NSGA-II on this brand's decision problem, run it with the best parameters and build plans.

    `tuned`: the (values, summary) of a study already run on a problem of the same shape (another brand of the
    project, project_tuning.py); the GA then runs with those values and no study of its own.

    `metric_rows`: one row per metric of the brand's latest period with columns metric_id,
    metric_name, section_name, platform_name, directed_score, effective_weight, effort_cost,
    best_score. `outcome_per_dc_point`: {'validated': bool, 'estimate', 'ci_low', 'ci_high',
    optional 'outcome', 'level'}; outcome changes are attached only when validated.
    """
    brand = _brand_label(metric_rows, brand_id)
    missing = missing_columns(metric_rows)
    if missing:
        return RecommendationResult("missing_input", f"metric rows lack columns: {', '.join(missing)}")
    rows = metric_rows
    if restrict_sections is not None:
        rows = rows[rows["section_name"].isin(restrict_sections)]
    if rows.empty:
        scope = "" if restrict_sections is None else f" in sections {', '.join(restrict_sections)}"
        return RecommendationResult("insufficient_data", f"no metrics{scope} for {brand} in the latest period")

    build = build_problem(rows, config)
    problem = build.problem
    if problem is None:
        detail = "; ".join(f"{n} {why}" for why, n in build.excluded.items())
        return RecommendationResult(
            "insufficient_data", f"no improvable metrics for {brand}: {detail}", excluded_metrics=build.excluded
        )

    if tuned is None:
        ga_params, summary = tune_ga(
            problem, max_evaluations=config.ga_max_evaluations, settings=settings, name=name, seed=seed,
            study_factory=study_factory,
        )  # fmt: skip
    else:
        ga_params, summary = params_from_values(tuned[0], problem.n_metrics), tuned[1]
    final = run_nsga2(problem, ga_params, seed)
    front = pareto_front(problem, final.population)
    hv = hypervolume(front.gain, front.effort, problem.max_gain, problem.reference_effort)
    oracle_hv = ratio = None
    if problem.n_metrics <= problem.max_changed:
        oracle = water_filling_front(problem)
        oracle_hv = hypervolume(oracle.gain, oracle.effort, problem.max_gain, problem.reference_effort)
        ratio = hv / oracle_hv if oracle_hv > 0 else None

    knee = knee_index(front.gain, front.effort)
    targets = target_indices(front.gain, front.effort, DC_TARGETS)
    # The do-nothing point belongs to the front but is no plan.
    actionable = {i for i in range(front.gain.size) if front.gain[i] > 0}
    protected = {knee} | {i for i in targets.values() if isinstance(i, int)}
    kept = [int(i) for i in thin_by_crowding(front.gain, front.effort, protected) if int(i) in actionable | protected]
    plans = {
        i: plan_dict(problem, front.delta[i], plan_id=n, outcome_per_dc_point=outcome_per_dc_point)
        for n, i in enumerate(kept)
    }

    study = summary.as_metadata() | {"top_trials": summary.top_trials}
    return RecommendationResult(
        status="ok",
        n_metrics=problem.n_metrics,
        excluded_metrics=build.excluded,
        max_delta_dc=problem.max_gain,
        plans=list(plans.values()),
        knee=plans[knee],
        targets={t: (plans[i] if isinstance(i, int) else i) for t, i in targets.items()},
        front_delta_dc=front.gain,
        front_effort=front.effort,
        hypervolume=hv,
        oracle_hypervolume=oracle_hv,
        oracle_hypervolume_ratio=ratio,
        ga_params=ga_params.as_dict(),
        study=study,
    )


def _brand_label(rows: pd.DataFrame, brand_id: int | None) -> str:
    if brand_id is None and "brand_id" in rows.columns and rows["brand_id"].nunique() == 1:
        brand_id = rows["brand_id"].iloc[0]
    return "the brand" if brand_id is None else f"brand {brand_id}"
