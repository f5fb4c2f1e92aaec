"""corr and slope blocks against independent textbook calculations, and their intervals by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dc_pipeline.domain.reports.blocks.correlation import corr_block, rank_corr_block, spearman_matrix
from dc_pipeline.domain.reports.blocks.slope import slope_block

X = np.array([78.6, 85.2, 72.1, 81.2, 87.8, 75.8])
Y = np.array([15.0, 22.0, 8.5, 16.5, 24.5, 9.2]) * 1e6
BRANDS = np.array([1, 2, 3, 1, 2, 3])


def test_pearson_fisher_ci_and_spearman_match_hand_calculation():
    block = corr_block(X, Y, 0.95, what="brand-periods")
    r = np.corrcoef(X, Y)[0, 1]
    half = stats.norm.ppf(0.975) / np.sqrt(len(X) - 3)
    assert block["pearson"]["r"] == pytest.approx(r, abs=1e-12)
    assert block["pearson"]["ci_low"] == pytest.approx(np.tanh(np.arctanh(r) - half), abs=1e-9)
    assert block["pearson"]["ci_high"] == pytest.approx(np.tanh(np.arctanh(r) + half), abs=1e-9)
    ranks = np.corrcoef(pd.Series(X).rank(), pd.Series(Y).rank())[0, 1]
    assert block["spearman"]["rho"] == pytest.approx(ranks, abs=1e-12)
    narrow = corr_block(X, Y, 0.80, what="brand-periods")["pearson"]
    assert narrow["ci_high"] - narrow["ci_low"] < block["pearson"]["ci_high"] - block["pearson"]["ci_low"]


def test_corr_needs_five_pairs_and_says_so():
    block = corr_block(X[:4], Y[:4], 0.95, what="brand-periods with DC and revenue")
    assert block["status"] == "insufficient_data" and (block["observed"], block["required"]) == (4, 5)
    assert "4 brand-periods with DC and revenue, 5 needed" in block["reason"]
    with_nan = corr_block(np.append(X, np.nan), np.append(Y, 1.0), 0.95, what="x")
    assert with_nan["n"] == 6


def test_rank_corr_and_spearman_matrix():
    block = rank_corr_block(X, Y, 0.95, what="obs")
    assert block["kendall"]["tau"] == pytest.approx(1.0) and block["spearman"]["rho"] == pytest.approx(1.0)
    frame = pd.DataFrame({"a": X, "b": -X, "c": Y})
    m = spearman_matrix(frame, ["a", "b", "c"])
    assert m["matrix"]["a"]["b"] == pytest.approx(-1.0) and m["matrix"]["a"]["c"] == pytest.approx(1.0)


def test_pooled_slope_and_within_brand_slope_match_normal_equations():
    frame = pd.DataFrame({"brand_id": BRANDS, "dc": X, "revenue": Y})
    block = slope_block(frame, "dc", "revenue", 0.95, what="obs")
    slope, intercept = np.polyfit(X, Y, 1)
    assert block["pooled"]["slope"] == pytest.approx(slope, rel=1e-10)
    assert block["pooled"]["intercept"] == pytest.approx(intercept, rel=1e-8)
    xd = X - pd.Series(X).groupby(BRANDS).transform("mean")
    yd = Y - pd.Series(Y).groupby(BRANDS).transform("mean")
    assert block["within"]["slope"] == pytest.approx(float((xd * yd).sum() / (xd * xd).sum()), rel=1e-10)
    # Brands repeat: brand-clustered CR1 errors with t on G - 1 = 2 degrees of freedom.
    assert block["pooled"]["inference"] == "brand_clustered" and block["pooled"]["df"] == 2
    resid = Y - (intercept + slope * X)
    design = np.column_stack([np.ones_like(X), X])
    bread = np.linalg.inv(design.T @ design)
    meat = sum(
        np.outer(design[BRANDS == g].T @ resid[BRANDS == g], design[BRANDS == g].T @ resid[BRANDS == g])
        for g in (1, 2, 3)
    )
    n, k, g = len(X), 2, 3
    cr1 = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    assert block["pooled"]["se"] == pytest.approx(np.sqrt(cr1[1, 1]), rel=1e-8)
    half = stats.t.ppf(0.975, 2) * block["pooled"]["se"]
    assert block["pooled"]["ci_low"] == pytest.approx(slope - half, rel=1e-8)


def test_cross_section_uses_classical_errors_and_small_panels_skip_within():
    frame = pd.DataFrame({"brand_id": [1, 2, 3, 4, 5], "x": [1.0, 2, 3, 4, 5], "y": [2.0, 4.1, 5.9, 8.2, 9.9]})
    block = slope_block(frame, "x", "y", 0.95, what="brands")
    lin = stats.linregress(frame["x"], frame["y"])
    assert block["pooled"]["inference"] == "classical"
    assert block["pooled"]["se"] == pytest.approx(lin.stderr, rel=1e-9)
    assert block["pooled"]["p"] == pytest.approx(lin.pvalue, rel=1e-9)
    assert block["within"]["status"] == "insufficient_data" and block["within"]["observed"] == 0


def test_fisher_interval_covers_at_its_level():
    rng = np.random.default_rng(7)
    rho, n, reps = 0.6, 20, 2000
    cov = [[1, rho], [rho, 1]]
    hits = {0.80: 0, 0.95: 0}
    for _ in range(reps):
        x, y = rng.multivariate_normal([0, 0], cov, size=n).T
        r = np.corrcoef(x, y)[0, 1]
        for level in hits:
            half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)
            hits[level] += np.tanh(np.arctanh(r) - half) <= rho <= np.tanh(np.arctanh(r) + half)
    block = corr_block(x, y, 0.95, what="pairs")  # the block's CI is the one simulated above
    assert block["pearson"]["ci_low"] == pytest.approx(np.tanh(np.arctanh(r) - stats.norm.ppf(0.975) / np.sqrt(17)))
    assert abs(hits[0.80] / reps - 0.80) < 0.03 and abs(hits[0.95] / reps - 0.95) < 0.02


def test_brand_clustered_slope_interval_covers_with_brand_effects():
    """6 brands x 20 periods with brand-level shocks in x and y: naive OLS errors would under-cover."""
    rng = np.random.default_rng(11)
    g, t, beta, reps = 6, 20, 2.0, 300
    brands = np.repeat(np.arange(g), t)
    covered = naive_covered = 0
    for _ in range(reps):
        x = rng.normal(0, 1, g)[brands] + rng.normal(0, 1, g * t)
        y = beta * x + rng.normal(0, 3, g)[brands] + rng.normal(0, 1, g * t)
        pooled = slope_block(pd.DataFrame({"brand_id": brands, "x": x, "y": y}), "x", "y", 0.95, what="o")["pooled"]
        covered += pooled["ci_low"] <= beta <= pooled["ci_high"]
        naive = stats.linregress(x, y)
        naive_covered += abs(naive.slope - beta) <= stats.t.ppf(0.975, g * t - 2) * naive.stderr
    assert covered / reps >= 0.88  # CR1 with t(G-1) at G = 6 is close to nominal
    assert naive_covered / reps < covered / reps - 0.1  # the iid interval is visibly too narrow here
