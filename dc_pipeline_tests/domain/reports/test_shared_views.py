"""The reports of a project built from shared cut inputs and views (a report run: report_data_from_frames with
`cuts`, build_report with `views`) equal the reports built alone, and no report's changes reach another's."""

import json

import pandas as pd

from dc_pipeline.demo.report_inputs import demo_frames
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS, report_spec
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.data import report_data_from_frames
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline_tests.domain.reports.conftest import DQ

REFERENCE = ("projects", "project_brands", "brands", "scores")


def _inputs(frames: dict, outputs: dict, report_id: str) -> dict:
    """What the report run reads for the report: the reference frames and scores, and only the inputs it needs."""
    optional = {**{k: v for k, v in frames.items() if k not in REFERENCE}, **outputs}
    return {
        **{k: frames[k] for k in REFERENCE},
        **{k: v for k, v in optional.items() if k in REPORT_NEEDS[report_id]},
    }


def test_every_report_built_with_shared_cuts_and_views_equals_the_report_built_alone(demo_tables, demo_p102_outputs):
    from dc_pipeline.domain.reports.registry import all_builders

    frames = demo_frames(demo_tables, 102)
    params = ReportParams()
    cuts, views = {}, {}
    for report_id, builder in all_builders().items():
        inputs = _inputs(frames, demo_p102_outputs, report_id)
        alone = build_report(builder, report_data_from_frames(102, **inputs, dq=DQ), params)
        data = report_data_from_frames(102, **inputs, dq=DQ, cuts=cuts)
        shared = build_report(builder, data, params, views=views)
        assert json.dumps(shared, sort_keys=True) == json.dumps(alone, sort_keys=True), report_id
    # Both kinds of report shared their panel: with outcomes loaded and without.
    assert {("view", True, "panel"), ("view", False, "panel")} <= set(views)
    assert {"scores", "outcomes", "forecasts", "portfolio"} <= set(cuts)


def test_a_report_changing_its_inputs_or_views_changes_no_other_report(demo_tables):
    frames = demo_frames(demo_tables, 102)
    cuts, views = {}, {}
    spec = report_spec("score_revenue_correlation")

    def context():
        data = report_data_from_frames(102, **frames, dq=DQ, cuts=cuts)
        return ReportContext(data, ReportParams(), spec, views=views)

    first = context()
    panel = first.panel.copy()
    scores = first.data.scores.brands.copy()
    outcomes = first.data.outcomes.copy()
    first.panel.loc[:, "dc"] = -1.0  # a builder writing into what it was handed, before a view derived from it
    observations = first.observations("revenue")
    observations.loc[:, "revenue"] = -1.0
    first.data.scores.brands.loc[:, "dc_score"] = -1.0
    first.data.outcomes.loc[:, "revenue"] = -1.0
    first.data.brands.loc[:, "brand_name"] = "changed"
    second = context()
    pd.testing.assert_frame_equal(second.panel, panel)
    pd.testing.assert_frame_equal(second.observations("revenue"), panel.dropna(subset=["dc", "revenue"]))
    pd.testing.assert_frame_equal(second.data.scores.brands, scores)
    pd.testing.assert_frame_equal(second.data.outcomes, outcomes)
    assert "changed" not in set(second.data.brands["brand_name"])
    assert ("view", False, "panel") in views  # the second report's panel came from the shared views
