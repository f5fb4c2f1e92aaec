"""corr and slope blocks on the TechCorp fixture (SPEC §4 "Derived expectations")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.relationships import corr_block, fisher_z_ci, slope_block

# (brand, period, Marketplace, Digital Spends, Organic Performance, Socialwatch, revenue, share, CAC, rank)
TECHCORP = [
    (1, "2024-01-01", 82.3, 75.2, 79.1, 77.8, 15_000_000, 12.5, 45.50, 3),
    (2, "2024-01-01", 88.1, 83.5, 84.7, 84.5, 22_000_000, 18.3, 38.20, 1),
    (3, "2024-01-01", 74.5, 68.9, 73.2, 71.8, 8_500_000, 8.7, 52.30, 7),
    (1, "2024-04-01", 84.1, 78.5, 81.8, 80.4, 16_500_000, 13.2, 42.80, 2),
    (2, "2024-04-01", 90.2, 86.1, 87.5, 87.4, 24_500_000, 19.8, 35.60, 1),
    (3, "2024-04-01", 78.2, 72.1, 76.9, 76.0, 9_200_000, 9.4, 48.90, 5),
]


@pytest.fixture(scope="module")
def techcorp() -> pd.DataFrame:
    df = pd.DataFrame(
        TECHCORP,
        columns=[
            "brand_id",
            "period",
            "mkt",
            "dig",
            "org",
            "soc",
            "revenue",
            "market_share",
            "customer_acquisition_cost",
            "bestseller_rank",
        ],
    )
    df["period"] = pd.to_datetime(df["period"])
    # Exact mean of the four sections (equal weights), not the rounded DC of the table.
    df["dc"] = df[["mkt", "dig", "org", "soc"]].mean(axis=1)
    return df


def test_dc_vs_revenue_correlation(techcorp):
    block = corr_block(techcorp["dc"], techcorp["revenue"])
    assert block["status"] == "ok" and block["n"] == 6
    assert round(block["pearson"]["r"], 4) == 0.9833
    assert round(block["pearson"]["p"], 5) == 0.00042
    assert block["spearman"]["rho"] == pytest.approx(1.0)
    lo, hi = block["pearson"]["ci_low"], block["pearson"]["ci_high"]
    assert lo < block["pearson"]["r"] < hi < 1.0
    # Fisher z: atanh(r) +- 1.959964/sqrt(n-3)
    z = np.arctanh(block["pearson"]["r"])
    assert lo == pytest.approx(np.tanh(z - 1.959964 / np.sqrt(3)), abs=1e-6)


def test_dc_vs_revenue_slopes(techcorp):
    block = slope_block(techcorp, "dc", "revenue")
    assert block["status"] == "ok"
    pooled = block["pooled"]
    assert round(pooled["slope"]) == 1_093_996
    assert pooled["n"] == 6 and pooled["significant"] is True
    assert pooled["ci_low"] < pooled["slope"] < pooled["ci_high"]
    assert pooled["intercept"] == pytest.approx(techcorp["revenue"].mean() - pooled["slope"] * techcorp["dc"].mean())
    within = block["within_brand"]
    assert within["status"] == "ok" and within["n_brands"] == 3
    assert round(within["slope"]) == 477_398
    assert within["df_resid"] == 6 - 3 - 1


def test_other_techcorp_outcomes(techcorp):
    cac = corr_block(techcorp["dc"], techcorp["customer_acquisition_cost"])
    assert round(cac["pearson"]["r"], 4) == -0.9994
    assert round(slope_block(techcorp, "dc", "customer_acquisition_cost")["pooled"]["slope"], 3) == -1.082
    share = corr_block(techcorp["dc"], techcorp["market_share"])
    assert round(share["pearson"]["r"], 4) == 0.9776
    assert round(slope_block(techcorp, "dc", "market_share")["pooled"]["slope"], 3) == 0.760
    rank = corr_block(techcorp["dc"], techcorp["bestseller_rank"])
    assert round(rank["spearman"]["rho"], 3) == -0.986


def test_corr_drops_nan_pairs_then_needs_five(techcorp):
    y = techcorp["revenue"].astype(float).copy()
    y.iloc[[0, 3]] = np.nan
    block = corr_block(techcorp["dc"], y)
    assert block["status"] == "insufficient_data"
    assert block["n"] == 4
    assert block["reason"] == "insufficient data: 4 observations, 5 needed"
    assert block["pearson"] is None


def test_corr_constant_input_is_reported():
    block = corr_block([1, 2, 3, 4, 5, 6], [3, 3, 3, 3, 3, 3])
    assert block["status"] == "insufficient_data"
    assert "y is constant" in block["reason"]


def test_within_brand_needs_two_brands_with_two_periods(techcorp):
    one_period_for_two_brands = techcorp.drop(index=[3, 5])  # only brand 2 keeps both quarters
    block = slope_block(one_period_for_two_brands, "dc", "revenue")
    assert block["pooled"]["n"] == 4
    assert block["within_brand"]["status"] == "insufficient_data"
    assert "1 brands have 2 or more" in block["within_brand"]["reason"]


def test_slope_significance_uses_alpha():
    rng = np.random.default_rng(3)
    x = rng.normal(size=30)
    df = pd.DataFrame(
        {"brand_id": np.repeat([1, 2, 3], 10), "period": np.tile(np.arange(10), 3), "x": x, "y": rng.normal(size=30)}
    )
    block = slope_block(df, "x", "y", confidence_level=0.95)
    pooled = block["pooled"]
    assert pooled["significant"] is (pooled["p"] < 0.05)
    assert pooled["ci_low"] < 0 < pooled["ci_high"] or pooled["significant"]


def test_fisher_ci_is_degenerate_at_perfect_correlation():
    assert fisher_z_ci(1.0, 10, 0.95) == (1.0, 1.0)
