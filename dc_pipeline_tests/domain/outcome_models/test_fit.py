from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from dc_pipeline.domain.outcome_models import fit_outcome_model
from dc_pipeline.domain.outcome_models.candidates import ModelConfig, build_estimator
from dc_pipeline.domain.outcome_models.effects import outcome_per_dc_point
from dc_pipeline.domain.outcome_models.features import build_model_frame, feature_columns
from dc_pipeline.domain.outcome_models.transforms import TargetTransform
from dc_pipeline.domain.source_tables import SECTIONS
from dc_pipeline.domain.tuning import TuningSettings, in_memory_study

FAST = TuningSettings(n_trials=12, n_jobs=1)
A, B = 5_000_000.0, 100_000.0


@pytest.fixture(scope="module")
def planted():
    from dc_pipeline_tests.domain.outcome_models.conftest import make_panel

    df = make_panel(8, 24, seed=7)
    rng = np.random.default_rng(8)
    df["revenue"] = A + B * df["dc"] + rng.normal(0, 150_000, len(df))
    return df


def test_planted_linear_relation_is_recovered(planted):
    r = fit_outcome_model(planted, "revenue", project_id=101, data_version="v1", settings=FAST, n_boot=100)
    assert r.status == "ok" and r.n_obs == 192 and r.n_periods == 24
    assert r.transform == "log"
    effect = r.outcome_per_dc_point
    assert abs(effect["estimate"] - B) / B < 0.10
    assert effect["ci_low"] <= B <= effect["ci_high"]
    assert effect["level"] == 0.95 and effect["intervals"]["0.80"][0] >= effect["ci_low"]
    assert r.validated is True
    assert r.cv_metrics["skill"] > 0 and r.cv_metrics["rmse"] < r.cv_metrics["baseline_rmse"]
    assert r.correlation["pearson"]["p"] < 0.05
    assert r.cv_metrics["n_folds"] == 5 and len(r.oof_predictions) == 5 * 8
    assert list(r.oof_predictions.columns) == ["brand_id", "period", "fold", "actual", "predicted", "baseline"]
    assert r.permutation_importance.iloc[0]["feature"] in ("dc", *SECTIONS)
    assert r.study.n_complete + r.study.n_pruned == 12
    assert list(r.estimator.feature_names_in_) == r.chosen["input_columns"]
    inputs = build_model_frame(planted, "revenue").data[r.chosen["input_columns"]]
    assert np.allclose(r.estimator.predict(inputs).mean(), planted["revenue"].mean(), rtol=0.01)


def test_effect_interval_is_the_wild_cluster_bootstrap_of_the_chosen_specification(planted):
    r = fit_outcome_model(planted, "revenue", project_id=102, data_version="v1", settings=FAST, n_boot=199)
    effect = r.outcome_per_dc_point
    inference = effect["inference"]
    assert inference["method"].startswith("wild cluster restricted bootstrap")
    assert inference["n_clusters"] == effect["n_brands"] == 8
    specification = inference["specification"]
    assert specification.endswith("brands as clusters")
    assert all(column in specification for column in feature_columns(r.chosen["feature_set"]))
    assert effect["ci_low"] < inference["estimate"] < effect["ci_high"]
    low80, high80 = effect["intervals"]["0.80"]
    assert effect["ci_low"] < low80 < high80 < effect["ci_high"]
    assert effect["p_value"] < 0.05 and effect["ci_reason"] is None  # a planted effect of 0.1 per DC point


def test_noise_target_is_not_validated():
    from dc_pipeline_tests.domain.outcome_models.conftest import make_panel

    df = make_panel(6, 6, seed=9)  # 36 observations: linear candidates only, which keeps this fast
    df["brand_equity_index"] = np.random.default_rng(10).normal(50, 5, len(df))  # independent of DC
    r = fit_outcome_model(df, "brand_equity_index", project_id=101, data_version="v1", settings=FAST, n_boot=50)
    assert r.status == "ok"
    assert r.cv_metrics["skill"] <= 0 or r.correlation["pearson"]["p"] >= 0.05
    assert r.validated is False
    assert r.validation_reason.startswith("not validated")


def test_too_few_observations_keeps_correlation():
    from dc_pipeline_tests.domain.outcome_models.conftest import make_panel

    df = make_panel(3, 2, seed=3)
    df["revenue"] = 1e6 + 1e5 * df["dc"]
    r = fit_outcome_model(df, "revenue", project_id=2, data_version="v1", settings=FAST)
    assert r.status == "insufficient_data"
    assert r.reason == "model not fitted: 6 observations, 10 needed"
    assert r.correlation["status"] == "ok" and r.correlation["n"] == 6
    assert r.estimator is None and r.validated is False


def test_too_few_periods():
    from dc_pipeline_tests.domain.outcome_models.conftest import make_panel

    df = make_panel(5, 3, seed=4)
    df["market_share"] = 10 + 0.1 * df["dc"]
    r = fit_outcome_model(df, "market_share", project_id=2, data_version="v1", settings=FAST)
    assert r.reason == "model not fitted: 3 periods, 4 needed"


def _small(seed):
    from dc_pipeline_tests.domain.outcome_models.conftest import make_panel

    df = make_panel(4, 8, seed=seed)
    rng = np.random.default_rng(seed)
    df["market_share"] = np.clip(2 + 0.2 * df["dc"] + rng.normal(0, 0.5, len(df)), 0, 100)
    return df


def test_deterministic_and_uses_study_factory():
    df = _small(5)
    names = []

    def factory(name, direction):
        names.append((name, direction))
        return in_memory_study(name, direction, FAST)

    kwargs = dict(project_id=7, data_version="0123456789abcdef", settings=FAST, n_boot=40)
    r1 = fit_outcome_model(df, "market_share", study_factory=factory, **kwargs)
    r2 = fit_outcome_model(df, "market_share", **kwargs)
    assert names == [("outcome_model|7|all|market_share|0123456789ab", "minimize")]
    assert r1.transform == "logit_pct"
    assert r1.chosen == r2.chosen and r1.cv_metrics == r2.cv_metrics
    assert r1.outcome_per_dc_point == r2.outcome_per_dc_point
    pd.testing.assert_frame_equal(r1.permutation_importance, r2.permutation_importance)
    # 32 observations: no hgb candidate offered.
    assert all(t["candidate"] != "hgb" for t in r1.study.top_trials)


def test_hgb_effect_is_mean_finite_difference(planted):
    config = ModelConfig(
        "hgb",
        "dc",
        params=dict(learning_rate=0.1, max_depth=3, max_iter=100, min_samples_leaf=10, l2_regularization=1e-3),
    )
    t = TargetTransform("identity")
    x, y = planted[["dc"]], planted["revenue"].to_numpy()
    with threadpool_limits(limits=1):  # tiny data: OpenMP threads only add overhead
        est = build_estimator(config, t, seed=0).fit(x, y)
        effect = outcome_per_dc_point(est, config, x, y, t)
        expected = np.mean(est.predict(x.assign(dc=x["dc"] + 1)) - est.predict(x))
    assert effect == pytest.approx(expected)
    assert 0 < effect < 3 * B  # a step function, but it rises with DC


def test_sections_effect_sums_section_coefficients(planted):
    config = ModelConfig("ridge", "sections", params={"alpha": 1e-3})
    t = TargetTransform("identity")
    x, y = planted[list(SECTIONS)], planted["revenue"].to_numpy()
    est = build_estimator(config, t, seed=0).fit(x, y)
    # revenue = A + B * mean(sections): each section carries B/4, their sum is B.
    assert outcome_per_dc_point(est, config, x, y, t) == pytest.approx(B, rel=0.1)


def test_chosen_models_out_of_fold_predictions_are_its_cross_validation(planted):
    """The best trial's out-of-fold predictions are reused, not recomputed: they must equal a fresh cross-validation
    of the chosen configuration, also when the study resumes and its best trial ran in an earlier fit."""
    from dc_pipeline.domain.outcome_models.candidates import config_from_params
    from dc_pipeline.domain.outcome_models.cv import expanding_window_folds
    from dc_pipeline.domain.outcome_models.fit import cross_validate
    from dc_pipeline.domain.outcome_models.transforms import transform_for

    studies = {}

    def factory(name, direction):  # one study kept across both fits: the second resumes it
        return studies.setdefault(name, in_memory_study(name, direction, FAST))

    kwargs = dict(project_id=103, data_version="v1", settings=FAST, n_boot=50, study_factory=factory)
    first = fit_outcome_model(planted, "revenue", **kwargs)
    resumed = fit_outcome_model(planted, "revenue", **{**kwargs, "settings": TuningSettings(n_trials=1, n_jobs=1)})
    mf = build_model_frame(planted, "revenue")
    folds = expanding_window_folds(mf.data["period"])
    for result in (first, resumed):
        config = config_from_params(result.study.best_params)
        fresh = cross_validate(mf, config, transform_for("revenue", mf.y()), folds, seed=42)
        pd.testing.assert_frame_equal(result.oof_predictions, fresh)
