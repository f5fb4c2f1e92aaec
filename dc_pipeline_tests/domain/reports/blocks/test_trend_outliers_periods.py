"""Trend (Mann-Kendall, Sen), IQR outliers and period statistics against independent calculations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from dc_pipeline.domain.reports.blocks.outliers import iqr_outliers
from dc_pipeline.domain.reports.blocks.periods import series_statistics
from dc_pipeline.domain.reports.blocks.trend import mann_kendall, period_numbers, trend_block


def _brute_mk(y):
    s = sum(np.sign(y[j] - y[i]) for i, j in itertools.combinations(range(len(y)), 2))
    n = len(y)
    _, t = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - sum(k * (k - 1) * (2 * k + 5) for k in t)) / 18
    z = (s - np.sign(s)) / np.sqrt(var) if s else 0.0
    return s, var, z, 2 * (1 - stats.norm.cdf(abs(z)))


@pytest.mark.parametrize("y", [[3.0, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [1.0, 2, 3, 4, 5, 6], [5.0, 5, 5, 4, 4, 6, 7]])
def test_mann_kendall_matches_brute_force_with_ties(y):
    y = np.array(y)
    s, var, z, p = _brute_mk(y)
    got = mann_kendall(y)
    assert got["s"] == s and got["var_s"] == pytest.approx(var) and got["z"] == pytest.approx(z)
    assert got["p"] == pytest.approx(p, abs=1e-12)


def test_mann_kendall_s_equals_kendall_tau_numerator_without_ties():
    y = np.random.default_rng(3).normal(size=15)
    tau = stats.kendalltau(np.arange(15), y).statistic
    assert mann_kendall(y)["s"] == pytest.approx(tau * 15 * 14 / 2)


def test_sen_slope_is_median_pairwise_slope_and_consistency_uses_the_trend():
    x = np.arange(12.0)
    y = 70 + 2 * x + np.array([0.3, -0.2, 0.1, 0.0, -0.3, 0.2, 0.1, -0.1, 0.2, -0.2, 0.0, 0.1])
    block = trend_block(x, y, 0.95, what="DC")
    pairs = [(y[j] - y[i]) / (x[j] - x[i]) for i, j in itertools.combinations(range(12), 2)]
    assert block["sen"]["slope"] == pytest.approx(np.median(pairs))
    assert block["direction"] == "rising" and block["mann_kendall"]["p"] < 0.001
    assert block["sen"]["ci_low"] < block["sen"]["slope"] < block["sen"]["ci_high"]
    # Steady growth: large spread around the mean, tiny spread around the trend.
    assert block["consistency"] < 0.92 and block["consistency_detrended"] > 0.99


def test_flat_noise_has_no_clear_trend_and_null_rejection_rate_is_alpha():
    rng = np.random.default_rng(5)
    x = np.arange(36.0)
    rejected = sum(trend_block(x, 75 + rng.normal(0, 3, 36), 0.95, what="DC")["significant"] for _ in range(1000))
    assert 0.03 <= rejected / 1000 <= 0.07
    assert trend_block(x[:3], x[:3], 0.95, what="DC")["status"] == "insufficient_data"


def test_sen_interval_covers_the_true_slope():
    rng = np.random.default_rng(9)
    x = np.arange(24.0)
    hits = sum(
        (b := trend_block(x, 70 + 0.3 * x + rng.normal(0, 2, 24), 0.90, what="DC"))["sen"]["ci_low"]
        <= 0.3
        <= b["sen"]["ci_high"]
        for _ in range(600)
    )
    assert 0.86 <= hits / 600 <= 0.95


def test_period_numbers_keep_gaps_on_the_grain():
    months = period_numbers(["2024-01-01", "2024-02-01", "2024-05-01"], 1)
    quarters = period_numbers(["2024-01-01", "2024-04-01", "2024-10-01"], 3)
    assert list(months) == [0, 1, 4] and list(quarters) == [0, 1, 3]


def test_iqr_outliers_match_numpy_fences():
    values = {"a": 70.0, "b": 72.0, "c": 71.0, "d": 73.0, "e": 95.0}
    block = iqr_outliers(values, what="brands")
    q1, q3 = np.percentile(list(values.values()), [25, 75])
    assert block["upper_fence"] == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert list(block["outliers"]) == ["e"] and block["outliers"]["e"]["direction"] == "high"
    assert iqr_outliers({"a": 1.0, "b": 2.0, "c": 3.0}, what="brands")["status"] == "insufficient_data"


def test_a_change_is_notable_only_when_it_stands_out():
    steady = series_statistics(70 + 2.0 * np.arange(10) + np.tile([0.1, -0.1], 5))
    assert steady["change_vs_previous"] > 1.5 and not steady["latest_change"]["notable"]
    flat_noise = series_statistics([75, 80, 72, 79, 73, 80])  # +7 is ordinary for this brand
    assert not flat_noise["latest_change"]["notable"]
    spike = series_statistics([75, 75.5, 74.8, 75.2, 75.1, 82.0])
    assert spike["latest_change"]["notable"] and spike["latest_change"]["z"] > 2
    short = series_statistics([75, 82.0])
    assert not short["latest_change"]["notable"] and short["sd"] == pytest.approx(np.std([75, 82], ddof=1))
