"""One GA tuning per project (project_tuning.py): the values tuned on one brand serve the project's other brands
as well as their own tuning would, and the tuning brand does not depend on the pairs a run covers."""

import pandas as pd
import pytest

from dc_pipeline.domain.panels import latest_metric_rows
from dc_pipeline.domain.recommendations.project_tuning import tune_project_ga
from dc_pipeline.domain.recommendations.recommend import recommend
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.tuning import in_memory_study

from .conftest import FAST_CONFIG, FAST_SETTINGS, metric_rows

PROJECT = 5


def _scores(brands: dict[int, pd.DataFrame]) -> tuple[DcScores, pd.DataFrame]:
    """Each brand's metric rows at one period (best_score is recomputed from the cohort)."""
    rows = pd.concat([r.assign(brand_id=b) for b, r in brands.items()], ignore_index=True)
    rows = rows.assign(project_id=PROJECT, period=pd.Timestamp("2025-06-01")).drop(columns=["best_score"])
    metrics = rows[["metric_id", "effort_cost"]].drop_duplicates("metric_id").assign(project_id=PROJECT)
    empty = pd.DataFrame()
    return DcScores(empty, empty, empty, rows.drop(columns=["effort_cost"])), metrics


def _factory(opened: list[str]):
    def open_study(n_metrics: int):
        def study(name: str, direction: str):
            opened.append(name)
            return in_memory_study(name, direction, FAST_SETTINGS)

        return study

    return open_study


@pytest.fixture(scope="module")
def project():
    # Same metrics (ids, sections, costs) for every brand, their own scores and weights: one project's shape.
    base = metric_rows(6, seed=0)
    brands = {}
    for brand_id, seed in ((11, 21), (12, 22), (13, 23)):
        own = metric_rows(6, seed=seed)
        brands[brand_id] = base.assign(directed_score=own["directed_score"], effective_weight=own["effective_weight"])
    return _scores(brands)


def test_one_study_per_project_on_its_first_member_whatever_the_run_covers(project):
    scores, metrics = project
    runs = []
    for members in ([13, 11, 12], [11, 12, 13]):
        opened: list[str] = []
        shared = tune_project_ga(
            scores, metrics, PROJECT, members, config=FAST_CONFIG, settings=FAST_SETTINGS,
            study_factory=_factory(opened), seed=3,
        )  # fmt: skip
        assert shared.brand_id == 11 and len(opened) == 1 and f"|{PROJECT}|11|" in opened[0]
        assert shared.summary.n_complete >= 1 and set(shared.summary.best_params) <= set(shared.values)
        runs.append(shared.values)
    assert runs[0] == runs[1]  # deterministic for the seed


def test_shared_values_reach_97_percent_of_each_brands_oracle_without_a_study_of_its_own(project):
    scores, metrics = project
    opened: list[str] = []
    shared = tune_project_ga(
        scores, metrics, PROJECT, [11, 12, 13], config=FAST_CONFIG, settings=FAST_SETTINGS,
        study_factory=_factory(opened), seed=3,
    )  # fmt: skip
    for brand_id in (12, 13):
        rows = latest_metric_rows(scores, metrics, PROJECT, brand_id)

        def no_study(name, direction, brand_id=brand_id):
            raise AssertionError(f"brand {brand_id} opened study {name}")

        result = recommend(
            rows, config=FAST_CONFIG, settings=FAST_SETTINGS, name="unused", seed=3, study_factory=no_study,
            tuned=(shared.values, shared.summary),
        )  # fmt: skip
        assert result.status == "ok" and result.study["study_name"] == shared.summary.study_name
        assert result.oracle_hypervolume_ratio >= 0.97
        assert result.ga_params["mutation_prob"] == pytest.approx(
            min(1.0, shared.values["mutations_per_genome"] / result.n_metrics)
        )
    assert len(opened) == 1
