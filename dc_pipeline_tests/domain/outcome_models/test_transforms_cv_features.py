from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.outcome_models.cv import expanding_window_folds, n_folds
from dc_pipeline.domain.outcome_models.features import available_feature_sets, build_model_frame
from dc_pipeline.domain.outcome_models.transforms import TargetTransform, transform_for
from dc_pipeline.domain.source_tables import SECTIONS


def test_transform_choice_per_target():
    assert transform_for("revenue", np.array([1.0, 2.0])).name == "log"
    assert transform_for("revenue", np.array([0.0, 2.0])).name == "log1p"
    assert transform_for("bestseller_rank", np.array([1.0, 7.0])).name == "log"
    assert transform_for("market_share", np.array([10.0])).name == "logit_pct"
    assert transform_for("conversion_rate", np.array([3.0])).name == "logit_pct"
    assert transform_for("customer_acquisition_cost", np.array([40.0])).name == "identity"


def test_logit_round_trip_and_conversion_at_mean():
    t = TargetTransform("logit_pct")
    func, inverse = t.functions
    y = np.array([2.0, 12.5, 50.0, 97.0])
    assert np.allclose(inverse(func(y)), y)
    # d(100*sigmoid(z))/dz at p = 0.2 is 100*0.2*0.8
    assert t.original_per_transformed(20.0) == pytest.approx(16.0)
    assert TargetTransform("log").original_per_transformed(1_000.0) == pytest.approx(1_000.0)


def test_expanding_window_folds():
    periods = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]).repeat(3))
    folds = expanding_window_folds(periods)
    assert len(folds) == n_folds(4) == 2
    for fold in folds:
        assert periods.iloc[fold.train_idx].max() < fold.test_period
        assert (periods.iloc[fold.test_idx] == fold.test_period).all()
    assert folds[0].test_period == pd.Timestamp("2024-03-01") and len(folds[0].train_idx) == 6
    assert len(expanding_window_folds(pd.Series(pd.date_range("2020-01-01", periods=12, freq="MS")))) == 5


def test_lag_is_within_brand_and_survives_missing_target(panel_factory):
    df = panel_factory(2, 4, seed=1)
    df["revenue"] = 1.0
    df.loc[(df["brand_id"] == 11) & (df["period"] == df["period"].min() + pd.DateOffset(months=1)), "revenue"] = np.nan
    mf = build_model_frame(df, "revenue")
    assert mf.n_obs == 7
    b11 = df[df["brand_id"] == 11].sort_values("period")
    row = mf.data[(mf.data["brand_id"] == 11) & (mf.data["period"] == b11["period"].iloc[2])]
    assert row["dc_lag1"].item() == pytest.approx(b11["dc"].iloc[1])  # from the row whose revenue is missing
    first = mf.data[mf.data["period"] == df["period"].min()]
    assert np.allclose(first["dc_lag1"], first["dc"])  # first period: lag imputed with own DC
    assert mf.n_lag_imputed == 2


def test_missing_section_is_imputed_with_dc(panel_factory):
    df = panel_factory(2, 3, seed=2)
    df["revenue"] = 1.0
    df.loc[0, SECTIONS[1]] = np.nan
    mf = build_model_frame(df, "revenue")
    assert mf.n_sections_imputed == 1
    assert mf.data[SECTIONS[1]].notna().all()
    assert available_feature_sets(2) == ["dc", "sections"]
    assert available_feature_sets(3) == ["dc", "sections", "dc_lag1"]
