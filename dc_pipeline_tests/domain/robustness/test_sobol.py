"""Sobol indices of the section weights (SPEC §9) against cases with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from dc_pipeline.domain.robustness import SOBOL_COLUMNS, sobol_indices, sobol_section_weights
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline.domain.source_tables import SECTIONS
from dc_pipeline_tests.domain.robustness.test_robustness import ONE_PER_SECTION, by_section

UNIT = [(0.0, 1.0)] * 3


def test_one_input_carrying_all_the_variance_has_indices_one_and_the_others_zero():
    indices, output = sobol_indices(lambda x: 3.0 * x[:, 0] + 1.0, ["a", "b", "c"], UNIT)
    a, others = indices.iloc[0], indices.iloc[1:]
    assert len(output) == 256 * (3 + 2)
    assert a["s1"] == pytest.approx(1.0, abs=0.02) and a["st"] == pytest.approx(1.0, abs=0.02)
    assert np.allclose(others[["s1", "st"]].to_numpy(), 0.0)  # the output never moves with b or c


def test_linear_model_indices_are_the_shares_of_variance():
    # y = x1 + 2 x2 with uniform inputs: Var = (1 + 4) / 12, so S1 = ST = 1/5 and 4/5, and 0 for x3
    indices, _ = sobol_indices(lambda x: x[:, 0] + 2.0 * x[:, 1], ["x1", "x2", "x3"], UNIT, n=1024)
    assert indices["s1"].tolist() == pytest.approx([0.2, 0.8, 0.0], abs=0.03)
    assert indices["st"].tolist() == pytest.approx([0.2, 0.8, 0.0], abs=0.03)


def test_interaction_shows_in_the_total_index_only():
    # y = x1 * x2 on U(-1, 1): no first-order effect at all, everything is the interaction
    indices, _ = sobol_indices(lambda x: x[:, 0] * x[:, 1], ["x1", "x2"], [(-1.0, 1.0)] * 2, n=1024)
    assert indices["s1"].abs().max() < 0.05 and indices["st"].min() > 0.9


def test_only_sections_that_separate_brands_drive_rank_shifts():
    # Marketplace favours brand 1, Digital Spends brand 2 and 3; Organic Performance and Socialwatch
    # are the same for every brand, so their weights cannot change any rank: ST exactly 0.
    values = by_section({1: [70.0, 50.0, 60.0, 60.0], 2: [50.0, 69.0, 60.0, 60.0], 3: [58.0, 61.0, 60.0, 60.0]})
    frame = sobol_section_weights(values, ONE_PER_SECTION)
    assert list(frame.columns) == list(SOBOL_COLUMNS)
    sobol = frame.set_index("section_name")
    assert set(sobol.index) == set(SECTIONS) and (sobol["status"] == "ok").all()
    assert (sobol["n_evaluations"] == 256 * 6).all() and (sobol["share_moved"] > 0.2).all()
    assert sobol["reason"].isna().all()
    flat = sobol.loc[["Organic Performance", "Socialwatch"]]
    assert np.allclose(flat[["s1", "st"]].to_numpy(), 0.0)
    moving = sobol.loc[["Marketplace", "Digital Spends"]]
    assert (moving["st"] > 0.3).all() and moving["st"].sum() > 0.9
    assert (moving["st_conf"] > 0).all()


def test_a_ranking_that_never_moves_has_no_indices_and_says_why():
    values = by_section({1: [90.0, 90.0, 90.0, 90.0], 2: [50.0, 50.0, 50.0, 50.0]})
    sobol = sobol_section_weights(values, ONE_PER_SECTION)
    assert (sobol["status"] == "ok").all() and sobol["st"].isna().all()
    assert sobol["reason"].iloc[0].startswith("ranks never move when section weights vary by ±25%")
    assert (sobol["share_moved"] == 0).all()


def test_indices_need_two_ranked_brands_and_weights():
    single = sobol_section_weights(by_section({1: [70.0, 60.0, 50.0, 40.0]}), ONE_PER_SECTION)
    assert (single["status"] == "insufficient_data").all()
    assert single["reason"].iloc[0] == "1 ranked brands and 4 sections, 2 of each needed"
    values = by_section({1: [70.0, 50.0, 60.0, 60.0], 2: [50.0, 69.0, 60.0, 60.0]})
    unweighted = sobol_section_weights(values, ONE_PER_SECTION, ScoringConfig(score_method="unweighted_mean"))
    assert (unweighted["status"] == "not_applicable").all() and unweighted["s1"].isna().all()
