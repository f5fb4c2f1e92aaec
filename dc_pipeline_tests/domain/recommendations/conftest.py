import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.recommendations.recommend import recommend
from dc_pipeline.domain.settings import OptimizerConfig
from dc_pipeline.domain.tuning import TuningSettings

FAST_SETTINGS = TuningSettings(n_trials=3, timeout_s=120, n_jobs=1, sampler="TPE", pruner="median", patience=30)
FAST_CONFIG = OptimizerConfig(max_uplift_points=20, max_metrics_changed=8, ga_max_evaluations=2000)


def metric_rows(n_metrics: int = 6, seed: int = 0, sections=("Marketplace", "Socialwatch")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = rng.uniform(20, 95, n_metrics)
    return pd.DataFrame(
        {
            "brand_id": 7,
            "metric_id": np.arange(1, n_metrics + 1),
            "metric_name": [f"metric_{i}" for i in range(n_metrics)],
            "section_name": [sections[i % len(sections)] for i in range(n_metrics)],
            "platform_name": "Amazon",
            "directed_score": score,
            "effective_weight": rng.dirichlet(np.ones(n_metrics)),
            "effort_cost": rng.uniform(0.5, 2.0, n_metrics),
            "best_score": np.minimum(100.0, score + rng.uniform(0, 15, n_metrics)),
        }
    )


def run(rows, config=FAST_CONFIG, **kwargs):
    return recommend(
        rows, config=config, settings=FAST_SETTINGS, name=kwargs.pop("name", "recommend|1|7|dc|test"), **kwargs
    )


@pytest.fixture(scope="package")
def small_result():
    rows = metric_rows()
    return rows, run(rows, seed=3)
