"""Synergy labels, complementarity and transfer pairs on hand-made cohorts."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dc_pipeline.domain.portfolio.synergy import complementarity, effective_correlation, synergy, transfer_pairs
from dc_pipeline.domain.source_tables import SECTIONS


def _panel(series: dict[int, list[float]]) -> pd.DataFrame:
    rows = [
        {"brand_id": b, "period": pd.Timestamp("2023-01-01") + pd.DateOffset(months=t), "t": t, "dc": v,
         **{s: v for s in SECTIONS}}
        for b, values in series.items()
        for t, v in enumerate(values)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_synergy_labels_from_first_differences():
    rng = np.random.default_rng(5)
    common = np.cumsum(rng.normal(0, 2, 24))
    series = {
        1: list(70 + common + rng.normal(0, 0.2, 24)),
        2: list(60 + common + rng.normal(0, 0.2, 24)),
        3: list(80 - common + rng.normal(0, 0.2, 24)),
        4: list(75 + rng.normal(0, 2, 24)),
    }
    out = synergy(_panel(series), alpha=0.05)
    dc = out[out["measure"] == "dc"].set_index(["brand_a", "brand_b"])
    r = stats.pearsonr(np.diff(series[1]), np.diff(series[2]))
    assert dc.at[(1, 2), "r"] == pytest.approx(r.statistic)
    assert dc.at[(1, 2), "p_naive"] == pytest.approx(r.pvalue)
    assert 3 <= dc.at[(1, 2), "n_effective"] <= 23
    assert dc.at[(1, 2), "n_differences"] == 23
    assert dc.at[(1, 2), "label"] == "co_moving"
    assert dc.at[(1, 3), "label"] == "counter_moving"
    assert dc.at[(1, 4), "label"] == "independent"
    assert (dc["p_holm"] >= dc["p"]).all()  # Holm never lowers a p value


def test_synergy_needs_six_common_periods():
    out = synergy(_panel({1: [70, 71, 73], 2: [60, 62, 61]}), alpha=0.05)
    row = out.iloc[0]
    assert row["status"] == "insufficient_data" and pd.isna(row["label"])
    assert row["reason"] == "insufficient history: 3 common periods, 6 needed"


def _latest(scores: dict[int, tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"brand_id": b, "period": pd.Timestamp("2024-01-01"), **dict(zip(SECTIONS, v))} for b, v in scores.items()]
    )


def test_complementarity_by_hand():
    # Per section over 4 brands: p75 and p25 of numpy's linear percentiles.
    latest = _latest({1: (90, 50, 70, 70), 2: (50, 90, 70, 70), 3: (70, 70, 90, 50), 4: (70, 70, 50, 90)})
    out = complementarity(latest).set_index(["brand_a", "brand_b"])
    # Marketplace: p75 = 75, p25 = 65 -> 1 strong, 2 weak; Digital Spends the reverse; likewise 3 and 4.
    assert out.at[(1, 2), "strengths_a"] == ["Marketplace"] and out.at[(1, 2), "weaknesses_a"] == ["Digital Spends"]
    assert out.at[(1, 2), "complementarity"] == pytest.approx((1 + 1) / 2)  # S1∩W2 and S2∩W1 over 2 sections
    assert out.at[(1, 3), "complementarity"] == pytest.approx(0 / 4)
    assert out.at[(3, 4), "complementarity"] == pytest.approx(1.0)


def test_transfer_pairs_at_fifteen_points():
    latest = _latest({1: (90, 70, 70, 70), 2: (75, 70, 70, 70), 3: (74.9, 70, 55, 70)})
    out = transfer_pairs(latest)
    got = {(r.leader_brand_id, r.laggard_brand_id, r.section): r.gap for r in out.itertuples()}
    assert got == pytest.approx({(1, 2, "Marketplace"): 15.0, (1, 3, "Marketplace"): 15.1,
                                 (1, 3, "Organic Performance"): 15.0, (2, 3, "Organic Performance"): 15.0})  # fmt: skip


def _ar1(rng, n: int, phi: float) -> np.ndarray:
    x = np.empty(n)
    x[0] = rng.normal() / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal()
    return x


@pytest.mark.parametrize(("n", "phi"), [(12, 0.0), (36, 0.0), (36, 0.5)])
def test_co_movement_p_holds_its_size_for_independent_brands(n, phi):
    """Differences of independent noisy levels: at most about 5 % called co-moving at alpha 0.05 (the plain
    Pearson p reaches about 11 % at 36 white-noise periods)."""
    rng = np.random.default_rng(n + int(10 * phi))
    draws = 800
    hits = naive = 0
    for _ in range(draws):
        a, b = np.diff(_ar1(rng, n, phi)), np.diff(_ar1(rng, n, phi))
        test = effective_correlation(a[None, :], b[None, :])
        hits += test["p"][0] < 0.05
        naive += test["p_naive"][0] < 0.05
    assert hits / draws < 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / draws)
    if phi == 0.0 and n == 36:
        assert naive / draws > 0.08  # the correction is needed there
