"""score_panel's section columns (groupby-first-unstack) equal what pivot_table(aggfunc="first") gave, on the demo's
projects and on scores with null section scores, a section never scored and no section rows at all."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.demo.dataset import demo_dataset
from dc_pipeline.demo.report_inputs import demo_frames
from dc_pipeline.domain import panels
from dc_pipeline.domain.panels import OBS_KEYS, score_panel
from dc_pipeline.domain.source_tables import SECTIONS


def pivot_columns(sections: pd.DataFrame) -> pd.DataFrame:
    """The section columns as score_panel made them with pivot_table: the reference."""
    return sections.pivot_table(
        index=["project_id", *OBS_KEYS], columns="section_name", values="section_score", aggfunc="first"
    ).reset_index()


def pivot_score_panel(scores, project_id: int, monkeypatch) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(panels, "section_columns", pivot_columns)
        return panels.score_panel(scores, project_id)


@pytest.fixture(scope="module")
def demo_scores():
    tables = demo_dataset("small").tables
    return {int(p): demo_frames(tables, int(p))["scores"] for p in tables["projects"]["project_id"]}


def test_score_panel_equals_the_pivot_table_panel_on_every_demo_project(demo_scores, monkeypatch):
    for project_id, scores in demo_scores.items():
        panel = score_panel(scores, project_id)
        assert panel[list(SECTIONS)].notna().any().all(), project_id  # the comparison covers real section values
        pd.testing.assert_frame_equal(panel, pivot_score_panel(scores, project_id, monkeypatch))


def test_score_panel_equals_the_pivot_table_panel_with_nulls_a_missing_section_and_no_sections(
    demo_scores, monkeypatch
):
    scores = demo_scores[101]
    sections = scores.sections.copy()
    sections.loc[sections.index[::3], "section_score"] = np.nan  # null scores, some brand-periods all null
    sections.loc[sections["period"] == sections["period"].max(), "section_score"] = np.nan
    cases = {
        "nulls": sections,
        "a section never scored": sections[sections["section_name"] != SECTIONS[1]],
        "a duplicated row, first non-null kept": pd.concat([sections, sections.assign(section_score=1.0)]),
        "no section rows": sections.iloc[0:0],
    }
    for name, frame in cases.items():
        case = dataclasses.replace(scores, sections=frame)
        pd.testing.assert_frame_equal(score_panel(case, 101), pivot_score_panel(case, 101, monkeypatch), obj=name)
