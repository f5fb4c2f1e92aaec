"""Risk statistics (VaR, ES, drawdown, forecast-quantile probabilities) and growth curves (AICc choice,
Gauss-Newton refits, time to target with a bootstrap interval) against independent calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import curve_fit

from dc_pipeline.domain.reports.blocks.growth import (
    bootstrap_times,
    fit_curves,
    logistic,
    refit_batch,
    time_to,
)
from dc_pipeline.domain.reports.blocks.risk import max_drawdown, quantile_cdf, quantile_draws, var_es

LEVELS = [0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995]


def test_historical_var_and_expected_shortfall_on_a_known_sample():
    changes = np.random.default_rng(0).permutation(np.arange(-50.0, 50.0))  # 100 changes
    got = var_es(changes, 0.05)
    worst = np.sort(changes)[:5]  # ceil(0.05 * 100) = 5 worst
    assert got["tail_count"] == 5 and got["var"] == pytest.approx(-worst[-1]) == 46
    assert got["expected_shortfall"] == pytest.approx(-worst.mean()) == 48
    few = var_es([1.0, -2.0, 0.5, -0.5, 3.0], 0.05)  # fewer than 20 changes: the worst seen
    assert few["var"] == few["expected_shortfall"] == 2.0 and few["tail_is_worst_seen"]


def test_max_drawdown_is_the_largest_fall_from_a_running_peak():
    got = max_drawdown([80, 85, 82, 78, 84, 86, 79, 81])
    assert got["max_drawdown"] == 7 and (got["peak_index"], got["trough_index"]) in ((1, 3), (5, 6))
    assert max_drawdown([70, 71, 72])["max_drawdown"] == 0


def test_quantile_cdf_of_normal_quantiles_is_close_to_the_normal_cdf_and_draws_agree():
    mu, sd = 78.0, 2.5
    values = [stats.norm.ppf(p, mu, sd) for p in LEVELS]
    for x in (73.0, 76.0, 78.0, 80.0, 83.0):
        assert quantile_cdf(LEVELS, values, x) == pytest.approx(
            stats.norm.cdf(x, mu, sd), abs=1e-9
        )  # normal-score interpolation is exact for normal quantiles
    draws = quantile_draws(LEVELS, values, 20000, np.random.default_rng(1))
    closed = 1 - quantile_cdf(LEVELS, values, 80.0)
    assert np.mean(draws >= 80.0) == pytest.approx(closed, abs=4 * math.sqrt(closed * (1 - closed) / 20000))
    assert quantile_cdf(LEVELS, values, 0.0) < 1e-12 and quantile_cdf(LEVELS, values, 100.0) > 1 - 1e-12
    skewed = [60.0, 70, 72, 74, 78, 79, 79.5, 79.8, 80.0]  # a logit back-transform squeezes the top
    assert quantile_cdf(LEVELS, skewed, 79.5) == pytest.approx(0.95, abs=1e-6)
    assert quantile_cdf(LEVELS, skewed, 78.0) == pytest.approx(0.5, abs=1e-6)


def test_aicc_picks_the_logistic_for_a_saturating_series_and_the_line_for_a_straight_one():
    t = np.arange(30.0)
    rng = np.random.default_rng(2)
    sat = logistic(t, 91.0, 0.3, 10.0) + rng.normal(0, 0.7, 30)
    fits = fit_curves(t, sat)
    assert fits["chosen"] == "logistic"
    k, r, t0 = fits["fits"]["logistic"]["params"]
    assert k == pytest.approx(91.0, abs=1.0) and r == pytest.approx(0.3, abs=0.05)
    rss = fits["fits"]["logistic"]["rss"]
    assert fits["fits"]["logistic"]["aicc"] == pytest.approx(30 * np.log(rss / 30) + 8 + 40 / 25)
    straight = 60 + 0.5 * t + rng.normal(0, 0.7, 30)
    assert fit_curves(t, straight)["chosen"] in ("linear", "log_linear")
    assert fit_curves(t, straight)["fits"]["logistic"].get("akaike_weight", 0) < 0.5


def test_batched_gauss_newton_lands_where_curve_fit_does():
    t = np.arange(24.0)
    rng = np.random.default_rng(3)
    start = [90.0, 0.25, 8.0]
    ys = logistic(t, *start)[None, :] + rng.normal(0, 0.8, (6, 24))
    batch = refit_batch("logistic", t, ys, start)
    for row, got in zip(ys, batch):
        ref = curve_fit(logistic, t, row, p0=start)[0]
        assert got == pytest.approx(ref, rel=1e-4)


def test_time_to_target_closed_forms_and_bootstrap_interval_covers_the_truth():
    assert time_to("linear", [70.0, 0.5], 80.0, 10.0) == pytest.approx(10.0)
    assert time_to("linear", [70.0, -0.5], 80.0, 10.0) == math.inf
    assert time_to("logistic", [85.0, 0.3, 5.0], 90.0, 10.0) == math.inf  # asymptote below the target
    assert time_to("log_linear", [np.log(70.0), 0.01], 80.0, 0.0) == pytest.approx(np.log(80 / 70) / 0.01)
    rng = np.random.default_rng(4)
    t = np.arange(24.0)
    true_time = (80.0 - 70.0) / 0.3 - 23.0
    covered = 0
    for _ in range(60):
        y = 70 + 0.3 * t + rng.normal(0, 1, 24)
        a, b = np.polyfit(t, y, 1)[::-1]
        got = bootstrap_times("linear", [a, b], t, y, [80.0], 0.95, rng, reps=300)["80"]
        covered += got["ci_low"] <= true_time <= got["ci_high"]
    assert covered / 60 >= 0.85
