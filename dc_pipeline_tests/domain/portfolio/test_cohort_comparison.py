"""Cohort standing and the cross-brand comparison against hand calculations and scipy."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dc_pipeline.domain.portfolio.cohort import cohort_standing, strength_weakness
from dc_pipeline.domain.portfolio.comparison import cross_brand_comparison, paired_tests, pairwise_dc_tests
from dc_pipeline.domain.source_tables import SECTIONS


def test_cohort_standing_by_hand():
    values = pd.Series({1: 70.0, 2: 80.0, 3: 80.0, 4: 90.0, 5: np.nan})
    s = cohort_standing(values)
    assert list(s.index) == [1, 2, 3, 4]  # a missing value is not in the cohort
    assert s["rank"].to_dict() == {1: 4, 2: 2, 3: 2, 4: 1}  # ties share the best (min) rank
    sd = np.std([70, 80, 80, 90], ddof=1)
    assert s["z_score"].to_dict() == pytest.approx({1: -10 / sd, 2: 0.0, 3: 0.0, 4: 10 / sd})
    for brand, value in values.dropna().items():
        assert s.at[brand, "percentile"] == pytest.approx(stats.percentileofscore([70, 80, 80, 90], value, kind="mean"))
    assert s["gap_to_leader"].to_dict() == {1: 20.0, 2: 10.0, 3: 10.0, 4: 0.0}


def test_strength_weakness_uses_p75_and_p25():
    values = pd.Series({1: 10.0, 2: 20.0, 3: 30.0, 4: 40.0, 5: 50.0})  # p25 = 20, p75 = 40
    assert strength_weakness(values).to_dict() == {
        1: "weakness",
        2: "weakness",
        3: "neutral",
        4: "strength",
        5: "strength",
    }
    assert strength_weakness(pd.Series({1: 5.0})).to_dict() == {1: "neutral"}


def _panel(dc: dict[int, list[float]]) -> pd.DataFrame:
    periods = pd.date_range("2023-01-01", periods=len(next(iter(dc.values()))), freq="MS")
    rows = [
        {"brand_id": b, "period": p, "t": t, "dc": v, **{s: v + i for i, s in enumerate(SECTIONS)}}
        for b, series in dc.items()
        for t, (p, v) in enumerate(zip(periods, series))
    ]
    return pd.DataFrame(rows)


def test_comparison_marks_leader_per_period_and_measure():
    panel = _panel({1: [70, 75], 2: [80, 72], 3: [60, 61]})
    out = cross_brand_comparison(panel)
    assert len(out) == 2 * 5 * 3
    leaders = out[out["is_leader"]].set_index(["period", "measure"])["brand_id"]
    assert leaders.loc[(pd.Timestamp("2023-01-01"), "dc")] == 2
    assert leaders.loc[(pd.Timestamp("2023-02-01"), "Socialwatch")] == 1
    row = out[(out["period"] == "2023-02-01") & (out["measure"] == "dc") & (out["brand_id"] == 3)].iloc[0]
    assert (row["rank"], row["gap_to_leader"]) == (3, 14.0)


def test_pairwise_tests_match_scipy_and_a_hand_holm():
    rng = np.random.default_rng(3)
    dc = {1: list(70 + rng.normal(0, 1, 8)), 2: list(71 + rng.normal(0, 1, 8)), 3: list(80 + rng.normal(0, 1, 8))}
    out = pairwise_dc_tests(_panel(dc), alpha=0.05).set_index(["brand_a", "brand_b"])
    raw = {}
    for a, b in [(1, 2), (1, 3), (2, 3)]:
        t = stats.ttest_rel(dc[a], dc[b])
        assert out.at[(a, b), "t_p_naive"] == pytest.approx(t.pvalue)
        assert out.at[(a, b), "wilcoxon_p_naive"] == pytest.approx(stats.wilcoxon(dc[a], dc[b]).pvalue)
        assert out.at[(a, b), "t_p"] >= out.at[(a, b), "t_p_naive"] - 1e-12  # the correction never helps
        assert out.at[(a, b), "mean_difference"] == pytest.approx(np.mean(np.subtract(dc[a], dc[b])))
        raw[(a, b)] = out.at[(a, b), "t_p"]
    # Holm by hand: sort ascending, multiply the i-th smallest by (m - i), running maximum, capped at 1.
    order = sorted(raw, key=raw.get)
    running, expected = 0.0, {}
    for i, key in enumerate(order):
        running = max(running, min(1.0, (len(order) - i) * raw[key]))
        expected[key] = running
    for key, p in expected.items():
        assert out.at[key, "t_p_holm"] == pytest.approx(p)
    assert bool(out.at[(1, 3), "significant"]) and bool(out.at[(2, 3), "significant"])


def test_pairwise_tests_need_four_common_periods():
    out = pairwise_dc_tests(_panel({1: [70, 71, 72], 2: [60, 62, 61]}), alpha=0.05)
    assert out.loc[0, "status"] == "insufficient_data"
    assert out.loc[0, "reason"] == "insufficient history: 3 common periods, 4 needed"
    assert np.isnan(out.loc[0, "t_p_holm"]) and not out.loc[0, "significant"]


def _ar1_rows(rng, rows: int, n: int, phi: float) -> np.ndarray:
    x = np.empty((rows, n))
    x[:, 0] = rng.normal(size=rows) / np.sqrt(1 - phi**2)
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + rng.normal(size=rows)
    return x


@pytest.mark.parametrize("n", [12, 36])
def test_the_autocorrelation_correction_holds_the_size_of_the_paired_tests(n):
    """Differences of two brands with equal means and AR(1) noise (phi 0.5, as the demo's sections): the plain
    paired t calls about a quarter of them different; the corrected tests about 10 % at 12 periods and 7 % at
    36 (r is estimated from the short series itself, so the correction is not complete)."""
    d = _ar1_rows(np.random.default_rng(n), 3000, n, 0.5)
    out = paired_tests(d)
    limit = 0.12 if n == 12 else 0.085
    assert (out["t_p_naive"] < 0.05).mean() > 0.2
    assert (out["t_p"] < 0.05).mean() < limit
    assert (out["wilcoxon_p"] < 0.05).mean() < limit
    white = paired_tests(_ar1_rows(np.random.default_rng(n + 1), 2000, n, 0.0))
    assert (white["t_p"] < 0.05).mean() < 0.065  # independent periods: still about alpha
