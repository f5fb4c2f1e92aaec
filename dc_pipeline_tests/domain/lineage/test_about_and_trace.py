"""A figure's lineage on a small scored project built in memory: what the figure is about, which stored quantity it
is, and its recomputation from the source rows (exact, and not once a source value moved)."""

import pandas as pd
import pytest

from dc_pipeline.domain.lineage.about import figure_about
from dc_pipeline.domain.lineage.trace import changed_since_validation, identify, recompute, stored_quantities
from dc_pipeline.domain.reports.json_values import PointerError
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.settings import ScoringConfig

PERIOD = "2024-03-01"
# Marketplace: two platforms, one metric minimized; Socialwatch: one platform with unequal weights.
METRICS = pd.DataFrame(
    [(1, "Marketplace", "Amazon", "rank", "minimize", 2.0), (2, "Marketplace", "Amazon", "reviews", "maximize", 1.0),
     (3, "Marketplace", "Flipkart", "reviews", "maximize", 1.0), (4, "Socialwatch", "X", "sentiment", "maximize", 3.0),
     (5, "Socialwatch", "X", "reach", "maximize", 1.0)],
    columns=["metric_id", "section_name", "platform_name", "metric_name", "metric_type", "weight"],
).assign(project_id=5, is_active=True)  # fmt: skip


def _values(brand_values: dict[int, list[float | None]]) -> pd.DataFrame:
    rows = [
        dict(id=10 * b + m, project_id=5, brand_id=b, metric_id=m, period=pd.Timestamp(PERIOD), normalized_value=v)
        for b, values in brand_values.items()
        for m, v in enumerate(values, start=1)
        if v is not None
    ]
    return pd.DataFrame(rows)


VALUES = _values({1: [30.0, 70.0, 55.0, 80.0, None], 2: [60.0, 50.0, 65.0, 70.0, 90.0]})  # b1 lacks metric 5


@pytest.fixture(scope="module")
def scores():
    return compute_dc_scores(VALUES, METRICS, ScoringConfig())


def _envelope(scores) -> dict:
    b = scores.brands.set_index("brand_id")
    s = scores.sections.set_index(["brand_id", "section_name"])
    analysis = {"standing": {"period": PERIOD, "brands": {
        str(k): {"brand_id": k, "dc_score": float(b.at[k, "dc_score"]),
                 "sections": {"Marketplace": float(s.at[(k, "Marketplace"), "contribution"])},
                 "scores": {"Socialwatch": float(s.at[(k, "Socialwatch"), "section_score"])}}
        for k in (1, 2)}}}  # fmt: skip
    figure = {"name": "dc", "value": analysis["standing"]["brands"]["1"]["dc_score"],
              "path": "/analysis/standing/brands/1/dc_score"}  # fmt: skip
    return {"analysis": analysis, "key_insights": [{"text": "", "figures": [figure]}],
            "data_context": {"brands_analyzed": [1, 2]}}  # fmt: skip


def test_an_insight_figure_is_followed_to_the_brand_period_it_is_about(scores):
    envelope = _envelope(scores)
    about = figure_about(envelope, "/key_insights/0/figures/0/value")
    assert (about.pointer, about.cited_from) == (
        "/analysis/standing/brands/1/dc_score",
        "/key_insights/0/figures/0/value",
    )
    assert (about.brand_id, about.period, about.section) == (1, PERIOD, None)
    section = figure_about(envelope, "/analysis/standing/brands/2/sections/Marketplace")
    assert (section.brand_id, section.section, section.cited_from) == (2, "Marketplace", None)
    with pytest.raises(PointerError):
        figure_about(envelope, "/analysis/standing/brands/3")


@pytest.mark.parametrize(
    "pointer, kind, section",
    [("/analysis/standing/brands/1/dc_score", "dc_score", None),
     ("/analysis/standing/brands/1/sections/Marketplace", "section_contribution", "Marketplace"),
     ("/analysis/standing/brands/1/scores/Socialwatch", "section_score", "Socialwatch")],
)  # fmt: skip
def test_the_figure_is_identified_and_recomputed_exactly_from_its_source_rows(scores, pointer, kind, section):
    about = figure_about(_envelope(scores), pointer)
    quantity = identify(about, stored_quantities(scores, 1, PERIOD))
    assert (quantity.kind, quantity.section, quantity.project_id) == (kind, section, 5)
    source = VALUES[VALUES["brand_id"] == 1]
    again = recompute(quantity, about.value, source, METRICS, ScoringConfig())
    assert again.exact and again.value == pytest.approx(about.value, abs=1e-12)
    expected_ids = {11, 12, 13, 14} if section is None else ({11, 12, 13} if section == "Marketplace" else {14})
    assert set(again.rows["id"]) == expected_ids
    if kind == "dc_score":  # metric 5 is missing: Socialwatch's weight rests on metric 4 alone (SPEC §4 step 5)
        assert again.rows["effective_weight"].sum() == pytest.approx(1.0)
        rank = again.rows.set_index("id").loc[11]
        assert rank["metric_type"] == "minimize" and rank["directed_score"] == 70.0


def test_a_moved_source_value_no_longer_recomputes_and_an_unknown_value_is_not_identified(scores):
    about = figure_about(_envelope(scores), "/analysis/standing/brands/1/dc_score")
    quantity = identify(about, stored_quantities(scores, 1, PERIOD))
    moved = VALUES[VALUES["brand_id"] == 1].assign(
        normalized_value=lambda f: f["normalized_value"].where(f["id"] != 14, 81.0)
    )
    again = recompute(quantity, about.value, moved, METRICS, ScoringConfig())
    assert not again.exact and again.value != pytest.approx(about.value, abs=1e-6)
    envelope = _envelope(scores)
    envelope["analysis"]["standing"]["brands"]["1"]["dc_score"] = 12.345
    assert (
        identify(figure_about(envelope, "/analysis/standing/brands/1/dc_score"), stored_quantities(scores, 1, PERIOD))
        is None
    )


def test_a_brand_scored_alike_in_two_projects_is_traced_in_the_reports_own_project(scores):
    twin = compute_dc_scores(VALUES.assign(project_id=6), METRICS.assign(project_id=6), ScoringConfig())
    both = stored_quantities(scores, 1, PERIOD) + stored_quantities(twin, 1, PERIOD)
    about = figure_about(_envelope(scores), "/analysis/standing/brands/1/dc_score")
    assert identify(about, both, project_id=6).project_id == 6
    assert identify(about, both, project_id=5).project_id == 5


def test_source_rows_changed_or_gone_since_validation_are_named():
    validated = VALUES[VALUES["brand_id"] == 1]
    assert changed_since_validation(validated, validated) == []
    source = validated[validated["id"] != 12].assign(
        normalized_value=lambda f: f["normalized_value"].where(f["id"] != 14, 81.0)
    )
    assert changed_since_validation(validated, source) == [12, 14]
