"""One GA tuning per project, shared by its brands (SPEC §6c, §6d; issue 14).

The GA's parameters (population, generations, crossover and mutation) say how to search a problem of the
project's shape: every brand of a project has the same metrics, bounds and effort model, only its scores differ.
Tuning them once per brand ran a study per pair (29 on the small demo), most of the recommendation stage. Here
the project's first member brand (by id) with a decision problem tunes them in its own study (the study it always
had: same name, same trials, same result) and every other brand runs its own GA with the best values found
(the mutation rate rescaled to its own number of metrics): each brand's front, plans and hypervolume stay its own.
The tuning brand does not depend on which pairs a run covers, so a one-pair run and a whole-project run share it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from dc_pipeline.domain.data_version import version_hex
from dc_pipeline.domain.panels import latest_metric_rows
from dc_pipeline.domain.recommendations.problem import build_problem, missing_columns
from dc_pipeline.domain.recommendations.tune import tune_ga_values
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.settings import OptimizerConfig
from dc_pipeline.domain.tuning import StudySummary
from dc_pipeline.domain.tuning_settings import TuningSettings, study_name

GA_KIND = "ga_recommendation"


@dataclass(frozen=True)
class SharedGaTuning:
    brand_id: int  # the brand whose problem the study tuned on
    values: dict  # best values in `suggest_values` form
    summary: StudySummary


def ga_study_name(project_id: int, brand_id: int, rows: pd.DataFrame) -> str:
    """The brand's GA study: new data (its latest metric rows), new study."""
    return study_name(GA_KIND, project_id, brand_id, "dc_gain", version_hex(rows))


def tune_project_ga(
    scores: DcScores,
    metrics: pd.DataFrame,
    project_id: int,
    members: list[int],
    *,
    config: OptimizerConfig,
    settings: TuningSettings,
    study_factory: Callable[[int], Callable],
    seed: int,
) -> SharedGaTuning | None:
    """The GA values tuned on the first member brand with a decision problem; None when no brand has one (each
    brand's `recommend` then reports why). `study_factory(n_metrics)` opens the study."""
    for brand_id in sorted(members):
        rows = latest_metric_rows(scores, metrics, project_id, brand_id)
        if rows.empty or missing_columns(rows):
            continue
        problem = build_problem(rows, config).problem
        if problem is None:
            continue
        values, summary = tune_ga_values(
            problem, max_evaluations=config.ga_max_evaluations, settings=settings,
            name=ga_study_name(project_id, brand_id, rows), seed=seed, study_factory=study_factory(len(rows)),
        )  # fmt: skip
        return SharedGaTuning(brand_id, values, summary)
    return None
