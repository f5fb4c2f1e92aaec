"""Trend tests of report 18 against independent calculations and by simulation: HAC OLS slope t-test, quadratic
term, CUSUM change points, the Hamed-Rao Mann-Kendall correction and Holm's adjustment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from dc_pipeline.domain.reports.blocks.multiplicity import holm_adjusted
from dc_pipeline.domain.reports.blocks.trend import autocorrelation_ratio, mann_kendall, trend_block
from dc_pipeline.domain.reports.blocks.trend_tests import (
    cusum_change_points,
    hac_lags,
    ols_trend,
    quadratic_term,
)


def _ar1(rng, n, phi=0.5):
    e = np.zeros(n)
    for t in range(n):
        e[t] = (phi * e[t - 1] if t else 0.0) + rng.normal()
    return e


def test_ols_slope_and_newey_west_t_match_a_hand_computation():
    rng = np.random.default_rng(0)
    x = np.arange(24.0)
    y = 70 + 0.3 * x + _ar1(rng, 24)
    got = ols_trend(x, y, 0.05)
    slope, intercept = np.polyfit(x, y, 1)
    e = y - (intercept + slope * x)
    xc = x - x.mean()
    lags = hac_lags(24)  # Bartlett weights 1 - l/(L+1) on the score autocovariances
    u = xc * e
    s = u @ u + sum(2 * (1 - lag / (lags + 1)) * (u[lag:] @ u[:-lag]) for lag in range(1, lags + 1))
    se = np.sqrt(s) / (xc @ xc)
    assert got["slope"] == pytest.approx(slope) and got["se"] == pytest.approx(se, rel=1e-9)
    assert got["p"] == pytest.approx(2 * stats.t.sf(abs(slope / se), 22), rel=1e-9)
    assert got["ci_low"] < slope < got["ci_high"]


def test_quadratic_term_names_acceleration_only_when_significant():
    x = np.arange(20.0)
    rng = np.random.default_rng(1)
    accelerating = 70 + 0.1 * x + 0.05 * x**2 + rng.normal(0, 0.3, 20)
    q = quadratic_term(x, accelerating, 0.05, slope=ols_trend(x, accelerating, 0.05)["slope"])
    assert q["curvature"] == "accelerating" and q["coefficient"] == pytest.approx(0.05, abs=0.01)
    decelerating = 70 + 2.0 * x - 0.05 * x**2 + rng.normal(0, 0.3, 20)
    assert quadratic_term(x, decelerating, 0.05, slope=1.0)["curvature"] == "decelerating"
    straight = 70 + 0.3 * x + rng.normal(0, 0.3, 20)
    assert quadratic_term(x, straight, 0.05, slope=0.3)["curvature"] in ("none", "accelerating", "decelerating")
    assert quadratic_term(x[:4], straight[:4], 0.05, 0.3)["status"] == "insufficient_data"


def test_cusum_finds_one_planted_change_point_where_it_was_planted():
    rng = np.random.default_rng(3)
    y = np.r_[np.full(14, 72.0), np.full(10, 79.0)] + rng.normal(0, 1, 24)
    found = cusum_change_points(y, 0.05)
    assert [c["index"] for c in found["change_points"]] == [14]
    c = found["change_points"][0]
    assert c["mean_before"] == pytest.approx(y[:14].mean()) and c["shift"] == pytest.approx(
        y[14:].mean() - y[:14].mean()
    )
    assert c["p"] < 0.05
    assert cusum_change_points(y[:11], 0.05)["status"] == "insufficient_data"


def test_cusum_does_not_call_a_trend_with_serially_correlated_noise_a_change():
    rng = np.random.default_rng(4)
    t = np.arange(30.0)
    alarms = [bool(cusum_change_points(70 + 0.3 * t + _ar1(rng, 30), 0.05)["change_points"]) for _ in range(150)]
    assert np.mean(alarms) <= 0.10
    shifted = [
        bool(
            cusum_change_points(70 + np.r_[np.zeros(15), np.full(15, 6.0)] + rng.normal(0, 1, 30), 0.05)[
                "change_points"
            ]
        )
        for _ in range(60)
    ]
    assert np.mean(shifted) >= 0.85


def test_autocorrelation_factor_tames_ar1_false_trends_and_keeps_real_ones():
    rng = np.random.default_rng(5)
    x = np.arange(36.0)
    plain, corrected, found = [], [], []
    for _ in range(300):
        y = 75 + _ar1(rng, 36, 0.6)
        plain.append(mann_kendall(y)["p"] < 0.05)
        corrected.append(trend_block(x, y, 0.95, what="DC")["significant"])
        found.append(trend_block(x, 75 + 0.25 * x + rng.normal(0, 1, 36), 0.95, what="DC")["significant"])
    assert np.mean(plain) > 0.2  # the uncorrected test finds 'trends' in pure AR(1) noise
    assert np.mean(corrected) <= 0.09
    assert np.mean(found) >= 0.95


def test_autocorrelation_ratio_matches_the_yue_wang_formula_on_a_fixed_series():
    y = np.array([3.0, 4, 6, 5, 7, 9, 8, 10, 12, 11, 13, 15, 14, 16, 18, 17, 19, 21, 20, 22])
    x = np.arange(y.size, dtype=float)
    slope = stats.theilslopes(y, x).slope
    e = y - slope * x
    e = e - e.mean()
    n = y.size
    r = np.clip((e[1:] @ e[:-1]) / (e @ e) * (1 + 3 / n) + 1 / n, 0, 0.9)
    expected = max(1.0, 1 + 2 * sum((1 - k / n) * r**k for k in range(1, n)))
    assert autocorrelation_ratio(y, x, slope) == pytest.approx(expected)
    assert autocorrelation_ratio(np.arange(10.0), np.arange(10.0), 1.0) == 1.0  # nothing left after detrending


def test_holm_matches_statsmodels():
    p = np.random.default_rng(6).uniform(0, 0.2, 17)
    assert holm_adjusted(p) == pytest.approx(multipletests(p, method="holm")[1])
