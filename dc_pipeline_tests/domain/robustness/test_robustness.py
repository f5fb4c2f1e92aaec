"""Index robustness (SPEC §9): Monte Carlo weight bands, aggregation, leave-one-out, weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.robustness import (
    effective_vs_nominal_weights,
    geometric_mean_ranks,
    leave_one_section_out,
    monte_carlo_weight_ranks,
    ranking_driver,
    section_dc_correlations,
    section_rank_sensitivity,
)
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline.domain.source_tables import SECTIONS
from dc_pipeline_tests.domain.test_scoring import (
    RENORM_SPEC,
    make_metrics,
    make_values,
    random_inputs,
    techcorp_inputs,
)

ONE_PER_SECTION = make_metrics([(i + 1, s, "Composite", "maximize", 1) for i, s in enumerate(SECTIONS)])


def by_section(rows: dict[int, list[float]]) -> pd.DataFrame:
    """brand -> section values in SECTIONS order, for ONE_PER_SECTION."""
    return make_values({b: {i + 1: v for i, v in enumerate(vs)} for b, vs in rows.items()})


# ---------------------------------------------------------------- Monte Carlo weights


@pytest.mark.parametrize(
    "config",
    [
        ScoringConfig(),
        ScoringConfig(section_weighting="equal"),
        ScoringConfig(score_method="unweighted_mean"),
    ],
)
def test_zero_noise_collapses_bands_onto_the_nominal_scores(config):
    values, metrics = random_inputs(np.random.default_rng(11), n_brands=10)
    nominal = compute_dc_scores(values, metrics, config).brands
    mc = monte_carlo_weight_ranks(values, metrics, config, n_draws=50, weight_noise=0.0)
    merged = mc.merge(nominal, on=["project_id", "brand_id", "period"], suffixes=("", "_nominal"))
    assert len(merged) == len(nominal) and merged["dc_score"].notna().sum() >= 5
    assert np.allclose(merged["dc_score"], merged["dc_score_nominal"], atol=1e-9, equal_nan=True)
    ranked = merged[merged["rank"].notna()]
    assert (ranked["nominal_rank"] == ranked["rank"]).all()
    for column in ("median_rank", "rank_lo", "rank_hi"):
        assert (ranked[column] == ranked["rank"].astype(float)).all()
    assert np.allclose(ranked["dc_lo"], ranked["dc_score"]) and np.allclose(ranked["dc_hi"], ranked["dc_score"])
    assert (ranked["rank_band_width"] == 0).all() and (ranked["mean_abs_rank_shift"] == 0).all()
    assert (merged["p_tier_change"] == 0).all() and not merged["rank_uncertain"].any()


def test_monte_carlo_is_seeded_and_deterministic():
    values, metrics = random_inputs(np.random.default_rng(5), n_brands=8)
    first = monte_carlo_weight_ranks(values, metrics, n_draws=200, seed=42)
    again = monte_carlo_weight_ranks(values, metrics, n_draws=200, seed=42)
    pd.testing.assert_frame_equal(first, again)
    other = monte_carlo_weight_ranks(values, metrics, n_draws=200, seed=43)
    assert not np.allclose(first["dc_lo"].dropna(), other["dc_lo"].dropna())
    assert (first["dc_lo"].dropna() < first["dc_hi"].dropna()).all()


# three brands within 0.1 DC point with different profiles, one far ahead, one far behind
CLOSE_FIELD = {
    1: [95.0, 96.0, 94.0, 95.0],
    2: [70.0, 50.0, 60.0, 60.0],
    3: [50.0, 70.0, 60.0, 60.2],
    4: [60.0, 60.0, 70.0, 50.3],
    5: [30.0, 35.0, 25.0, 30.0],
}


def test_brand_far_ahead_has_a_zero_width_band_and_close_brands_are_rank_uncertain():
    mc = monte_carlo_weight_ranks(by_section(CLOSE_FIELD), ONE_PER_SECTION).set_index("brand_id")
    dc = mc["dc_score"]
    assert max(dc[[2, 3, 4]]) - min(dc[[2, 3, 4]]) < 0.1
    assert mc.loc[1, ["rank_lo", "rank_hi", "rank_band_width"]].tolist() == [1.0, 1.0, 0.0]
    assert not mc.loc[1, "rank_uncertain"] and not mc.loc[1, "tier_uncertain"]
    assert mc.loc[5, "rank_band_width"] == 0 and not mc.loc[5, "rank_uncertain"]
    for brand in (2, 3, 4):
        assert mc.loc[brand, "rank_lo"] == 2 and mc.loc[brand, "rank_hi"] == 4
        assert mc.loc[brand, "rank_uncertain"] and mc.loc[brand, "tier_uncertain"]  # straddle 60
        assert mc.loc[brand, "mean_abs_rank_shift"] > 0.3 and mc.loc[brand, "p_tier_change"] > 0.1
    assert (mc["n_draws"] == 1000).all()


def test_two_close_brands_swap_ranks_inside_a_one_rank_band():
    mc = monte_carlo_weight_ranks(by_section({2: CLOSE_FIELD[2], 3: CLOSE_FIELD[3]}), ONE_PER_SECTION)
    # with only two brands the 5-95 % band is ranks 1..2: width 1, below the SPEC's >= 2 flag
    assert mc["rank_lo"].tolist() == [1.0, 1.0] and mc["rank_hi"].tolist() == [2.0, 2.0]
    assert not mc["rank_uncertain"].any()
    assert 0.2 < mc["median_rank"].mean() / 3 < 0.8


# ---------------------------------------------------------------- aggregation alternative


def test_geometric_mean_penalises_an_uneven_profile_and_floors_at_one():
    scores = compute_dc_scores(
        by_section({1: [100.0, 100.0, 100.0, 0.0], 2: [74.0, 74.0, 74.0, 74.5]}), ONE_PER_SECTION
    )
    geo = geometric_mean_ranks(scores).set_index("brand_id")
    assert geo.loc[1, "nominal_rank"] == 1 and geo.loc[2, "nominal_rank"] == 2
    assert geo.loc[1, "geometric_mean"] == pytest.approx(100.0**0.75)  # the 0 counts as 1
    assert geo.loc[2, "geometric_mean"] == pytest.approx(np.exp(np.mean(np.log([74, 74, 74, 74.5]))))
    assert geo.loc[1, "rank_shift"] == 1 and geo.loc[2, "rank_shift"] == -1


# ---------------------------------------------------------------- leave one section out


def test_leave_one_section_out_finds_the_section_that_reverses_the_order():
    # Socialwatch alone puts brand 2 ahead of brand 1; brand 3 is last everywhere
    values = by_section({1: [70.0, 70.0, 70.0, 10.0], 2: [60.0, 60.0, 60.0, 60.0], 3: [30.0, 30.0, 30.0, 30.0]})
    loso = leave_one_section_out(values, ONE_PER_SECTION)
    assert set(loso["dropped_section"]) == set(SECTIONS) and len(loso) == 12
    social = loso[loso["dropped_section"] == "Socialwatch"].set_index("brand_id")
    assert social["delta_rank"].to_dict() == {1: -1, 2: 1, 3: 0}
    assert social.loc[1, "dc_without"] == pytest.approx(70.0)
    others = loso[loso["dropped_section"] != "Socialwatch"]
    assert (others["delta_rank"] == 0).all()
    sensitivity = section_rank_sensitivity(loso).set_index("dropped_section")
    assert sensitivity.loc["Socialwatch", "mean_abs_delta_rank"] == pytest.approx(2 / 3)
    driver = ranking_driver(loso)
    assert driver["ranking_driver"].tolist() == ["Socialwatch"] and driver["status"].tolist() == ["ok"]
    assert driver["mean_abs_delta_rank"].iloc[0] == pytest.approx(2 / 3)


def test_no_ranking_driver_when_every_section_agrees():
    loso = leave_one_section_out(by_section({1: [80.0] * 4, 2: [50.0] * 4}), ONE_PER_SECTION)
    driver = ranking_driver(loso).iloc[0]
    assert driver["ranking_driver"] is None and driver["status"] == "ok"
    assert "unchanged" in driver["reason"] and driver["mean_abs_delta_rank"] == 0


def test_ranking_driver_needs_two_ranked_brands():
    driver = ranking_driver(leave_one_section_out(by_section({1: [80.0] * 4}), ONE_PER_SECTION)).iloc[0]
    assert driver["status"] == "insufficient_data" and driver["reason"] == "1 ranked brands, 2 needed"


# ---------------------------------------------------------------- weights and correlations


def test_effective_weights_move_to_siblings_of_a_missing_metric():
    metrics = make_metrics(RENORM_SPEC)
    scores = compute_dc_scores(make_values({1: {1: 80, 2: 20, 3: 50, 4: 10}, 2: {1: 80, 3: 50, 4: 10}}), metrics)
    weights = effective_vs_nominal_weights(scores, metrics)
    metric = weights[weights["level"] == "metric"].set_index("metric_id")
    assert metric["nominal_weight"].to_dict() == pytest.approx({1: 0.2, 2: 0.1, 3: 0.3, 4: 0.4})
    assert metric["effective_weight_mean"].to_dict() == pytest.approx({1: 0.25, 2: 0.05, 3: 0.3, 4: 0.4})
    assert metric.loc[2, "effective_weight_min"] == 0 and metric.loc[2, "effective_weight_max"] == pytest.approx(0.1)
    assert metric.loc[1, "weight_shift"] == pytest.approx(0.05) and (metric["n_brands"] == 2).all()
    platform = weights[weights["level"] == "platform"].set_index("platform_name")
    assert platform.loc["X", "nominal_weight"] == pytest.approx(0.3)
    assert platform.loc["X", "effective_weight_mean"] == pytest.approx(0.3)
    section = weights[weights["level"] == "section"].set_index("section_name")
    assert section.loc["Marketplace", "nominal_weight"] == pytest.approx(0.6)
    sums = weights.groupby("level")[["nominal_weight", "effective_weight_mean"]].sum()
    assert np.allclose(sums, 1.0)


def test_section_correlations_need_five_brand_periods():
    values, metrics = techcorp_inputs()
    corr = section_dc_correlations(compute_dc_scores(values, metrics))
    assert len(corr) == 8 and (corr["status"] == "insufficient_data").all()
    assert corr["reason"].iloc[0] == "insufficient data: 3 brand-periods, 5 needed"
    values, metrics = random_inputs(np.random.default_rng(3), n_brands=10)
    scores = compute_dc_scores(values, metrics)
    corr = section_dc_correlations(scores).set_index("section_name")
    pairs = scores.sections[scores.sections["section_name"] == "Marketplace"].merge(
        scores.brands.dropna(subset=["dc_score"]), on=["project_id", "brand_id", "period"]
    )
    assert corr.loc["Marketplace", "status"] == "ok" and corr.loc["Marketplace", "n"] == len(pairs) >= 5
    assert corr.loc["Marketplace", "pearson_r"] == pytest.approx(
        np.corrcoef(pairs["section_score"], pairs["dc_score"])[0, 1]
    )
