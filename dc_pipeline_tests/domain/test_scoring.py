"""DC score (SPEC §4): TechCorp reference values, renormalisation, identities, variants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dc_pipeline.domain.scoring import (
    BRAND_COLUMNS,
    METRIC_COLUMNS,
    PLATFORM_COLUMNS,
    SECTION_COLUMNS,
    DcScores,
    check_contribution_identities,
    compute_dc_scores,
    scores_outside_range,
)
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline.domain.source_tables import SECTIONS

Q1, Q2 = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-01")


def make_metrics(spec: list[tuple], project_id: int = 1) -> pd.DataFrame:
    """spec rows: (metric_id, section, platform, metric_type, weight[, is_active])."""
    rows = []
    for item in spec:
        metric_id, section, platform, metric_type, weight = item[:5]
        rows.append(
            {
                "metric_id": metric_id,
                "project_id": project_id,
                "section_name": section,
                "platform_name": platform,
                "metric_name": f"metric_{metric_id}",
                "metric_type": metric_type,
                "weight": float(weight),
                "effort_cost": 1.0,
                "is_active": item[5] if len(item) > 5 else True,
            }
        )
    return pd.DataFrame(rows)


def make_values(cells: dict[int, dict[int, float]], project_id: int = 1, period: pd.Timestamp = Q1) -> pd.DataFrame:
    """cells: brand_id -> {metric_id: normalized_value}."""
    rows = [
        {"project_id": project_id, "brand_id": b, "metric_id": m, "period": period, "normalized_value": float(v)}
        for b, by_metric in cells.items()
        for m, v in by_metric.items()
    ]
    return pd.DataFrame(rows, columns=["project_id", "brand_id", "metric_id", "period", "normalized_value"])


def brand_row(scores: DcScores, brand_id: int, project_id: int = 1) -> pd.Series:
    b = scores.brands
    return b[(b["brand_id"] == brand_id) & (b["project_id"] == project_id)].iloc[0]


def effective_weights(scores: DcScores, brand_id: int) -> dict[int, float]:
    m = scores.metrics[scores.metrics["brand_id"] == brand_id]
    return dict(zip(m["metric_id"], m["effective_weight"]))


# ---------------------------------------------------------------- TechCorp reference fixture

TECHCORP = {  # (project, brand) -> section scores in SECTIONS order (SPEC §4 table)
    (1, 1): [82.3, 75.2, 79.1, 77.8],
    (1, 2): [88.1, 83.5, 84.7, 84.5],
    (1, 3): [74.5, 68.9, 73.2, 71.8],
    (2, 1): [84.1, 78.5, 81.8, 80.4],
    (2, 2): [90.2, 86.1, 87.5, 87.4],
    (2, 3): [78.2, 72.1, 76.9, 76.0],
}
TECHCORP_METRIC_NAMES = ("marketplace_index", "digital_spends_index", "organic_performance_index", "socialwatch_index")


def techcorp_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    metrics = pd.concat(
        [
            make_metrics([((p - 1) * 4 + i + 1, s, "Composite", "maximize", 1) for i, s in enumerate(SECTIONS)], p)
            for p in (1, 2)
        ],
        ignore_index=True,
    )
    metrics["metric_name"] = [TECHCORP_METRIC_NAMES[i % 4] for i in range(len(metrics))]
    period = {1: Q1, 2: Q2}
    values = pd.concat(
        [
            make_values({b: {(p - 1) * 4 + i + 1: v for i, v in enumerate(vs)}}, p, period[p])
            for (p, b), vs in TECHCORP.items()
        ],
        ignore_index=True,
    )
    return values, metrics


def test_techcorp_dc_tiers_and_ranks_match_the_spec_table():
    values, metrics = techcorp_inputs()
    scores = compute_dc_scores(values, metrics)
    b = scores.brands.set_index(["project_id", "brand_id"])
    expected = {(1, 1): 78.6, (1, 2): 85.2, (1, 3): 72.1, (2, 1): 81.2, (2, 2): 87.8, (2, 3): 75.8}
    for key, dc in expected.items():
        assert b.loc[key, "dc_score"] == pytest.approx(dc, abs=0.05)
    assert b.loc[(1, 1), "tier"] == "medium" and b.loc[(1, 2), "tier"] == "high" and b.loc[(1, 3), "tier"] == "medium"
    assert b.loc[(2, 1), "tier"] == "high" and b.loc[(2, 2), "tier"] == "high" and b.loc[(2, 3), "tier"] == "medium"
    for project in (1, 2):
        assert (
            b.loc[(project, 2), "rank"] == 1 and b.loc[(project, 1), "rank"] == 2 and b.loc[(project, 3), "rank"] == 3
        )
        assert b.loc[(project, 2), "n_brands"] == 3
    assert (b["weight_coverage"] == 1.0).all() and (b["sections_missing"] == "").all()
    assert b["null_reason"].isna().all()
    assert list(scores.brands.columns) == list(BRAND_COLUMNS)
    assert list(scores.sections.columns) == list(SECTION_COLUMNS)
    assert list(scores.platforms.columns) == list(PLATFORM_COLUMNS)
    assert list(scores.metrics.columns) == list(METRIC_COLUMNS)
    # one metric per section: the section score is the value, and its effective weight is 1/4
    sections = scores.sections.set_index(["project_id", "brand_id", "section_name"])
    assert sections.loc[(1, 3, "Digital Spends"), "section_score"] == pytest.approx(68.9)
    assert sections.loc[(1, 3, "Digital Spends"), "effective_weight"] == pytest.approx(0.25)
    assert check_contribution_identities(scores).empty and scores_outside_range(scores).empty


# ---------------------------------------------------------------- directions and renormalisation


def test_minimize_metric_is_flipped_unless_values_are_already_directed():
    metrics = make_metrics([(1, "Marketplace", "Amazon", "minimize", 1), (2, "Marketplace", "Amazon", "maximize", 1)])
    values = make_values({1: {1: 30.0, 2: 50.0}})
    flipped = compute_dc_scores(values, metrics)
    s = dict(zip(flipped.metrics["metric_id"], flipped.metrics["directed_score"]))
    assert s == {1: 70.0, 2: 50.0}
    assert brand_row(flipped, 1)["dc_score"] == pytest.approx(60.0)
    directed = compute_dc_scores(values, metrics, ScoringConfig(normalized_is_directed=True))
    assert brand_row(directed, 1)["dc_score"] == pytest.approx(40.0)


# section A: platform X (m1 w2, m2 w1), platform Y (m3 w3); section B: platform Z (m4 w4). Total 10.
RENORM_SPEC = [
    (1, "Marketplace", "X", "maximize", 2),
    (2, "Marketplace", "X", "maximize", 1),
    (3, "Marketplace", "Y", "maximize", 3),
    (4, "Socialwatch", "Z", "maximize", 4),
]


def test_missing_metric_weight_goes_to_its_platform_siblings():
    metrics = make_metrics(RENORM_SPEC)
    values = make_values({1: {1: 80, 2: 20, 3: 50, 4: 10}, 2: {1: 80, 3: 50, 4: 10}})
    scores = compute_dc_scores(values, metrics)
    assert effective_weights(scores, 1) == pytest.approx({1: 0.2, 2: 0.1, 3: 0.3, 4: 0.4})
    assert effective_weights(scores, 2) == pytest.approx({1: 0.3, 3: 0.3, 4: 0.4})
    assert brand_row(scores, 2)["weight_coverage"] == pytest.approx(0.9)
    assert brand_row(scores, 2)["dc_score"] == pytest.approx(0.3 * 80 + 0.3 * 50 + 0.4 * 10)


def test_missing_platform_weight_goes_to_the_other_platforms_of_its_section():
    metrics = make_metrics(RENORM_SPEC)
    values = make_values({1: {1: 80, 2: 20, 4: 10}})
    scores = compute_dc_scores(values, metrics)
    assert effective_weights(scores, 1) == pytest.approx({1: 0.4, 2: 0.2, 4: 0.4})
    row = brand_row(scores, 1)
    assert row["weight_coverage"] == pytest.approx(0.7) and row["sections_missing"] == ""
    assert row["dc_score"] == pytest.approx(0.4 * 80 + 0.2 * 20 + 0.4 * 10)
    sections = scores.sections.set_index("section_name")
    assert sections.loc["Marketplace", "section_score"] == pytest.approx((2 * 80 + 20) / 3)
    assert sections.loc["Marketplace", "effective_weight"] == pytest.approx(0.6)


def test_coverage_below_threshold_nulls_the_dc_with_a_reason():
    metrics = make_metrics(RENORM_SPEC)
    values = make_values({1: {1: 80, 3: 50}, 2: {1: 70, 2: 20, 3: 50, 4: 10}})
    scores = compute_dc_scores(values, metrics)
    row = brand_row(scores, 1)
    assert np.isnan(row["dc_score"]) and row["tier"] is None and pd.isna(row["rank"])
    assert row["null_reason"] == "weight coverage 0.50 < 0.70"
    assert row["sections_missing"] == "Socialwatch"
    assert brand_row(scores, 2)["rank"] == 1 and brand_row(scores, 2)["n_brands"] == 1
    nulled = scores.metrics[scores.metrics["brand_id"] == 1]
    assert len(nulled) == 2 and nulled["effective_weight"].isna().all() and nulled["contribution"].isna().all()
    assert nulled["directed_score"].notna().all()
    relaxed = compute_dc_scores(values, metrics, ScoringConfig(min_weight_coverage=0.5))
    assert brand_row(relaxed, 1)["dc_score"] == pytest.approx(0.5 * 80 + 0.5 * 50)


def test_inactive_and_unknown_metrics_are_ignored():
    metrics = make_metrics(
        [
            (1, "Marketplace", "X", "maximize", 1),
            (2, "Marketplace", "X", "maximize", 1),
            (3, "Marketplace", "X", "maximize", 5, False),
        ]
    )
    values = make_values({1: {1: 40, 2: 60, 3: 0, 99: 0}})
    scores = compute_dc_scores(values, metrics)
    assert brand_row(scores, 1)["dc_score"] == pytest.approx(50.0)
    assert set(scores.metrics["metric_id"]) == {1, 2}


def test_sections_missing_lists_absent_sections_in_spec_order_and_zero_weight_projects_are_null():
    metrics = make_metrics(
        [(i + 1, s, "X", "maximize", 1) for i, s in enumerate(SECTIONS)]
        + [(9, "Socialwatch", "Y", "maximize", 1, False)]
    )
    values = make_values({1: {2: 50.0}, 2: {1: 50.0, 2: 60.0, 3: 70.0}, 3: {9: 10.0}})
    brands = compute_dc_scores(values, metrics, ScoringConfig(min_weight_coverage=0.0)).brands.set_index("brand_id")
    assert brands.loc[1, "sections_missing"] == "Marketplace,Organic Performance,Socialwatch"
    assert brands.loc[2, "sections_missing"] == "Socialwatch" and brands.loc[2, "dc_score"] == pytest.approx(60.0)
    # brand 3 only has a value for an inactive metric: kept, coverage 0, no DC
    assert brands.loc[3, "weight_coverage"] == 0 and np.isnan(brands.loc[3, "dc_score"])
    assert brands.loc[3, "null_reason"] == "no metric with a positive weight has a value"
    zero = make_metrics([(1, "Marketplace", "X", "maximize", 0)])
    row = brand_row(compute_dc_scores(make_values({1: {1: 50.0}}), zero), 1)
    assert np.isnan(row["dc_score"]) and row["null_reason"] == "project 1 has no active metric with a positive weight"


# ---------------------------------------------------------------- variants and ranks


def test_unweighted_mean_uses_plain_means_and_equal_effective_weights():
    metrics = make_metrics(
        [
            (1, "Marketplace", "X", "maximize", 5),
            (2, "Marketplace", "Y", "maximize", 1),
            (3, "Marketplace", "Y", "minimize", 1),
            (4, "Socialwatch", "Z", "maximize", 9),
        ]
    )
    values = make_values({1: {1: 90, 2: 30, 3: 40, 4: 20}})
    scores = compute_dc_scores(values, metrics, ScoringConfig(score_method="unweighted_mean"))
    s = [90, 30, 60, 20]
    assert brand_row(scores, 1)["dc_score"] == pytest.approx(np.mean(s))
    sections = scores.sections.set_index("section_name")["section_score"]
    assert sections["Marketplace"] == pytest.approx(np.mean(s[:3])) and sections["Socialwatch"] == pytest.approx(20)
    platforms = scores.platforms.set_index("platform_name")["platform_score"]
    assert platforms["Y"] == pytest.approx(45.0)
    assert scores.metrics["effective_weight"].to_numpy() == pytest.approx(np.full(4, 0.25))
    assert check_contribution_identities(scores).empty


def test_equal_section_weighting_averages_section_scores():
    metrics = make_metrics([(1, "Marketplace", "X", "maximize", 9), (2, "Socialwatch", "Z", "maximize", 1)])
    values = make_values({1: {1: 90, 2: 30}})
    assert brand_row(compute_dc_scores(values, metrics), 1)["dc_score"] == pytest.approx(84.0)
    equal = compute_dc_scores(values, metrics, ScoringConfig(section_weighting="equal"))
    assert brand_row(equal, 1)["dc_score"] == pytest.approx(60.0)
    assert check_contribution_identities(equal).empty


def test_ties_share_the_minimum_rank():
    metrics = make_metrics([(1, "Marketplace", "X", "maximize", 1), (2, "Marketplace", "X", "maximize", 3)])
    values = make_values({1: {1: 70, 2: 50}, 2: {2: 50, 1: 70}, 3: {1: 90, 2: 90}, 4: {1: 10, 2: 10}})
    ranks = compute_dc_scores(values, metrics).brands.set_index("brand_id")["rank"]
    assert ranks.to_dict() == {1: 2, 2: 2, 3: 1, 4: 4}


# ---------------------------------------------------------------- identities and range checks


def random_inputs(rng: np.random.Generator, n_brands: int = 6, n_periods: int = 2):
    spec, metric_id = [], 1
    for section in SECTIONS:
        for platform in range(rng.integers(1, 4)):
            for _ in range(rng.integers(1, 4)):
                spec.append(
                    (
                        metric_id,
                        section,
                        f"P{platform}",
                        rng.choice(["maximize", "minimize"]),
                        float(rng.choice([0.0, 0.5, 1.0, 2.0, 3.5])),
                    )
                )
                metric_id += 1
    metrics = make_metrics(spec)
    periods = pd.date_range("2024-01-01", periods=n_periods, freq="MS")
    values = pd.concat(
        [
            make_values(
                {
                    b: {m: rng.uniform(0, 100) for m in range(1, metric_id) if rng.random() < 0.8}
                    for b in range(1, n_brands + 1)
                },
                period=t,
            )
            for t in periods
        ],
        ignore_index=True,
    )
    return values, metrics


@pytest.mark.parametrize(
    "config",
    [
        ScoringConfig(),
        ScoringConfig(section_weighting="equal"),
        ScoringConfig(score_method="unweighted_mean"),
        ScoringConfig(min_weight_coverage=0.0),
    ],
)
def test_contribution_identities_hold_on_random_inputs(config):
    values, metrics = random_inputs(np.random.default_rng(7), n_brands=12)
    scores = compute_dc_scores(values, metrics, config)
    assert scores.brands["dc_score"].notna().sum() >= 6
    assert check_contribution_identities(scores, tol=1e-9).empty
    assert scores_outside_range(scores).empty
    scored = scores.metrics.dropna(subset=["effective_weight"])
    sums = scored.groupby(["brand_id", "period"])["effective_weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-12)
    section_sum = scores.sections.groupby(["brand_id", "period"])["contribution"].sum(min_count=1)
    dc = scores.brands.set_index(["brand_id", "period"])["dc_score"].dropna()
    assert np.allclose(section_sum.loc[dc.index], dc, atol=1e-9)


def test_identity_check_and_range_check_report_violations():
    values, metrics = techcorp_inputs()
    scores = compute_dc_scores(values, metrics)
    tampered_metrics = scores.metrics.copy()
    tampered_metrics.loc[0, "contribution"] += 1e-6
    bad = check_contribution_identities(DcScores(scores.brands, scores.sections, scores.platforms, tampered_metrics))
    assert len(bad) == 1 and bad.loc[0, "contribution_error"] == pytest.approx(1e-6, rel=1e-3)
    tampered_sections = scores.sections.copy()
    tampered_sections.loc[2, "section_score"] = 100.5
    out = scores_outside_range(DcScores(scores.brands, tampered_sections, scores.platforms, scores.metrics))
    assert out[["frame", "column", "value"]].values.tolist() == [["sections", "section_score", 100.5]]


def test_empty_values_give_empty_frames():
    _, metrics = techcorp_inputs()
    scores = compute_dc_scores(make_values({}), metrics)
    assert scores.brands.empty and scores.metrics.empty
    assert list(scores.brands.columns) == list(BRAND_COLUMNS)


cell = st.one_of(st.none(), st.floats(0, 100, allow_nan=False))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.integers(0, 2),
            st.sampled_from(["maximize", "minimize"]),
            st.sampled_from([0.0, 0.25, 1.0, 3.0]),
        ),
        min_size=1,
        max_size=8,
    ),
    grid=st.lists(st.lists(cell, min_size=8, max_size=8), min_size=1, max_size=4),
    equal=st.booleans(),
)
def test_property_contributions_sum_to_dc_and_shortfalls_to_100(layout, grid, equal):
    metrics = make_metrics([(i + 1, SECTIONS[s], f"P{p}", t, w) for i, (s, p, t, w) in enumerate(layout)])
    cells = {b + 1: {m + 1: v for m, v in enumerate(row[: len(layout)]) if v is not None} for b, row in enumerate(grid)}
    values = make_values(cells)
    config = ScoringConfig(min_weight_coverage=0.0, section_weighting="equal" if equal else "metric_sum")
    scores = compute_dc_scores(values, metrics, config)
    assert check_contribution_identities(scores, tol=1e-9).empty
    assert scores_outside_range(scores).empty
    scored = scores.brands["dc_score"].notna()
    assert (scores.brands.loc[scored, "rank"] >= 1).all()
    assert (scores.brands.loc[scored, "rank"] <= scores.brands.loc[scored, "n_brands"]).all()
