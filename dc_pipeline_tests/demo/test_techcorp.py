"""TechCorp reference fixture (SPEC §4 table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.demo.techcorp import techcorp_tables
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS, SOURCE_COLUMNS

try:
    from dc_pipeline.domain.scoring import compute_dc_scores
except ImportError:  # pragma: no cover
    compute_dc_scores = None

# (project, brand) -> expected DC, tier, revenue, market_share, CAC, bestseller_rank (SPEC §4)
EXPECTED = {
    (1, 1): (78.6, "medium", 15_000_000, 12.5, 45.50, 3),
    (1, 2): (85.2, "high", 22_000_000, 18.3, 38.20, 1),
    (1, 3): (72.1, "medium", 8_500_000, 8.7, 52.30, 7),
    (2, 1): (81.2, "high", 16_500_000, 13.2, 42.80, 2),
    (2, 2): (87.8, "high", 24_500_000, 19.8, 35.60, 1),
    (2, 3): (75.8, "medium", 9_200_000, 9.4, 48.90, 5),
}


@pytest.fixture(scope="module")
def tables():
    return techcorp_tables()


def test_columns_match_source_columns(tables):
    for name, cols in SOURCE_COLUMNS.items():
        assert list(tables[name].columns) == [*cols, "created_at", "updated_at"], name


def test_reference_rows(tables):
    projects = tables["projects"].set_index("project_id")
    assert projects.project_name.to_dict() == {
        1: "Q1 2024 Performance Analysis",
        2: "Q2 2024 Performance Analysis",
        3: "Q3 2024 Performance Analysis",
    }
    assert projects.start_date.dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-04-01", "2024-07-01"]
    assert (projects.start_date == projects.end_date).all()
    assert (projects.series_group == "techcorp").all() and (projects.period_grain == "quarter").all()
    assert (projects.status == "completed").all() and (projects.category_id == 1).all()
    assert tables["categories"].set_index("category_id").category_name.to_dict() == {1: "Consumer Electronics"}
    brands = tables["brands"].set_index("brand_id")
    assert brands.brand_name.to_dict() == {1: "TechPhone", 2: "TechLaptop", 3: "TechWatch"}
    pb = tables["project_brands"]
    assert len(pb) == 9 and set(pb.project_id) == {1, 2, 3}
    assert pb[pb.role == "primary"].brand_id.unique().tolist() == [1]


def test_metrics_one_composite_metric_per_section(tables):
    metrics = tables["metrics"]
    assert metrics.metric_id.tolist() == list(range(1, 13))
    assert (metrics.groupby("project_id").section_name.apply(sorted) == [sorted(SECTIONS)] * 3).all()
    assert (metrics.platform_name == "Composite").all() and (metrics.metric_type == "maximize").all()
    assert (metrics.weight == 1).all() and (metrics.effort_cost == 1).all()
    assert set(metrics.metric_name) == {
        "marketplace_index",
        "digital_spends_index",
        "organic_performance_index",
        "socialwatch_index",
    }


def test_q3_has_no_values_and_no_outcomes(tables):
    assert 3 not in set(tables["normalisedvalue"].project_id)
    assert 3 not in set(tables["business_outcomes"].project_id)
    assert (tables["metrics"].project_id == 3).sum() == 4


def test_section_means_reproduce_expected_dc(tables):
    nv = tables["normalisedvalue"]
    assert len(nv) == 24 and nv.id.tolist() == list(range(1, 25))
    labelled = nv.merge(tables["metrics"][["metric_id", "section_name"]], on="metric_id")
    assert (labelled.section == labelled.section_name).all()
    dc = nv.groupby(["project_id", "brand_id"]).normalized_value.mean()
    for key, (expected, *_rest) in EXPECTED.items():
        assert abs(dc.loc[key] - expected) <= 0.05, key
    assert dc.loc[(1, 1)] == pytest.approx(78.6)  # the formula value, not the published 78.5


@pytest.mark.skipif(compute_dc_scores is None, reason="dc_pipeline.domain.scoring not available")
def test_section4_scoring_gives_expected_dc_and_tiers(tables):
    values = tables["normalisedvalue"][["project_id", "brand_id", "metric_id", "period", "normalized_value"]]
    brands = compute_dc_scores(values, tables["metrics"]).brands.set_index(["project_id", "brand_id"])
    for key, (expected, tier, *_rest) in EXPECTED.items():
        assert abs(brands.loc[key, "dc_score"] - expected) <= 0.05
        assert brands.loc[key, "tier"] == tier


def test_outcomes_match_spec_table(tables):
    outcomes = tables["business_outcomes"].set_index(["project_id", "brand_id"])
    assert len(outcomes) == 6 and (outcomes.currency == "USD").all()
    for key, (_dc, _tier, revenue, share, cac, rank) in EXPECTED.items():
        row = outcomes.loc[key]
        assert (row.revenue, row.market_share, row.customer_acquisition_cost, row.bestseller_rank) == (
            revenue,
            share,
            cac,
            rank,
        )
    assert outcomes[list(OUTCOME_COLUMNS[4:])].isna().all().all()


def test_derived_expectations(tables):
    """SPEC §4 derived numbers follow from the fixture rows."""
    nv, outcomes = tables["normalisedvalue"], tables["business_outcomes"]
    dc = nv.groupby(["project_id", "brand_id"]).normalized_value.mean().rename("dc").reset_index()
    both = dc.merge(outcomes, on=["project_id", "brand_id"])
    assert both.dc.corr(both.revenue) == pytest.approx(0.9833, abs=5e-4)
    assert both.dc.corr(both.customer_acquisition_cost) == pytest.approx(-0.9994, abs=5e-4)
    revenue = both.groupby("project_id").revenue.sum()
    assert revenue.tolist() == [45_500_000, 50_200_000]
    assert both.groupby("project_id").dc.mean().round(3).tolist() == [78.633, 81.6]
    q2 = nv[nv.project_id == 2].groupby("section").normalized_value.mean().round(3)
    assert q2.to_dict() == {
        "Marketplace": 84.167,
        "Digital Spends": 78.9,
        "Organic Performance": 82.067,
        "Socialwatch": 81.267,
    }
    assert np.isclose(np.polyfit(both.dc, both.revenue, 1)[0], 1_093_996, rtol=1e-3)
    assert isinstance(both.period.iloc[0], pd.Timestamp)
