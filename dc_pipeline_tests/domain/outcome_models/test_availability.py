"""An outcome that cannot be modelled says why: nothing scored, or the outcome never reported."""

import numpy as np
import pandas as pd

from dc_pipeline.domain.outcome_models.availability import missing_outcome_reason


def test_nothing_scored_is_a_missing_input_with_counts_not_a_null_outcome():
    reason = missing_outcome_reason("revenue", pd.Series([], dtype=float), "project 7")
    assert reason.startswith("missing input: no scored brand-periods for project 7 (observed 0, required >= 1)")
    assert "null" not in reason


def test_outcome_null_everywhere_names_the_count_of_scored_brand_periods():
    reason = missing_outcome_reason("revenue", pd.Series([np.nan] * 12), "project 7")
    assert reason.startswith("missing outcome: revenue is null in all 12 scored brand-periods of project 7")


def test_one_reported_value_is_enough():
    assert missing_outcome_reason("revenue", pd.Series([np.nan, 3.0]), "project 7") is None
