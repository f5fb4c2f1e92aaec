"""Calibrated intervals cover as often as they say (SPEC §6b), by simulation.

Series with known noise: a score around 60 with a trend, a seasonal swing the non-seasonal ETS
tier cannot model, and AR(1) noise. Two measurements per seed: the coverage the forecaster reports
from its own backtest, and whether the next 6 actuals, drawn from the same process but never seen,
fall inside the published intervals. Both averages must be within 5 points of nominal. The six
unseen actuals of one seed move together, so 40 seeds leave a standard error of about 3.5 points on
their mean (these 40 give 0.81 and 0.94, 200 seeds 0.79 and 0.94).
"""

import numpy as np
import pytest

from dc_pipeline.domain.forecasting import forecast_series

from .helpers import FAST_TUNING, monthly

N_SEEDS = 40
N_HISTORY = 24  # ets tier, 18 rolling origins: 93 backtest errors
HORIZON = 6


def _series(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = N_HISTORY + HORIZON
    t = np.arange(n)
    noise = np.zeros(n)
    shocks = rng.normal(0.0, 1.2, n)
    for i in range(n):
        noise[i] = 0.5 * noise[i - 1] + shocks[i] if i else shocks[i]
    return 60.0 + rng.uniform(0.1, 0.4) * t + 2.0 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6.3)) + noise


@pytest.fixture(scope="module")
def runs():
    out = []
    for seed in range(N_SEEDS):
        values = _series(seed)
        result = forecast_series(
            monthly(values[:N_HISTORY]), kind="score", m=12, horizon=HORIZON, settings=FAST_TUNING, name=f"sim{seed}"
        )
        out.append((result, values[N_HISTORY:]))
    return out


def test_every_series_is_calibrated_on_its_backtest(runs):
    assert all(r.tier == "ets" and r.interval_method == "calibrated" for r, _ in runs)
    assert all(r.backtest["coverage_n_points"] >= 21 and r.backtest["calibration"]["n_errors"] == 93 for r, _ in runs)


@pytest.mark.parametrize("level, column", [(0.80, "coverage_80"), (0.95, "coverage_95")])
def test_backtest_coverage_is_within_five_points_of_nominal(runs, level, column):
    mean = np.mean([r.backtest[column] for r, _ in runs])
    assert abs(mean - level) <= 0.05, f"mean backtest coverage {mean:.3f} at nominal {level}"


@pytest.mark.parametrize("level, low, high", [(0.80, "q0.1", "q0.9"), (0.95, "q0.025", "q0.975")])
def test_unseen_actuals_fall_inside_the_published_intervals_as_often_as_nominal(runs, level, low, high):
    inside = [(r.quantiles[low].to_numpy() <= future) & (future <= r.quantiles[high].to_numpy()) for r, future in runs]
    mean = float(np.mean(inside))
    assert abs(mean - level) <= 0.05, f"coverage of unseen actuals {mean:.3f} at nominal {level}"
