import numpy as np
from scipy.stats import norm

from dc_pipeline.domain.forecasting.intervals import (
    MIN_EMPIRICAL_ERRORS,
    QUANTILE_COLUMNS,
    QUANTILES,
    empirical_multipliers,
    quantile_multipliers,
)
from dc_pipeline.domain.forecasting.transforms import make_transform


def test_quantile_columns_are_the_spec_levels():
    assert QUANTILE_COLUMNS == ("q0.005", "q0.025", "q0.05", "q0.1", "q0.5", "q0.9", "q0.95", "q0.975", "q0.995")


def test_empirical_rule_needs_twenty_errors():
    errors = np.random.default_rng(0).standard_t(3, size=MIN_EMPIRICAL_ERRORS)
    assert quantile_multipliers(errors[:-1])[1] == "model"
    assert np.allclose(quantile_multipliers(errors[:-1])[0], norm.ppf(QUANTILES))
    multipliers, rule = quantile_multipliers(errors)
    assert rule == "empirical"
    assert np.allclose(multipliers, empirical_multipliers(errors))


def test_empirical_multipliers_are_centred_monotone_and_reach_past_the_sample():
    errors = np.random.default_rng(1).normal(0.3, 2.0, size=21)
    mult = empirical_multipliers(errors)
    centred = errors - np.median(errors)
    assert mult[QUANTILES.index(0.5)] == 0.0
    assert (np.diff(mult) >= 0).all()
    # 0.1 and 0.9 are resolvable with 21 errors: plain sample quantiles of the centred errors
    assert np.isclose(mult[QUANTILES.index(0.1)], np.quantile(centred, 0.1))
    # 0.005 / 0.995 are not: they are extended beyond the sample extremes' quantile levels
    assert mult[0] < np.quantile(centred, 1 / 21) and mult[-1] > np.quantile(centred, 20 / 21)


def test_transforms_round_trip_and_respect_bounds():
    score = make_transform("score", np.array([10.0, 50.0]))
    x = np.array([0.5, 10.0, 50.0, 99.5])
    assert np.allclose(score.inverse(score.forward(x)), x)
    assert score.inverse(np.array([-1e6, 1e6])).tolist() == [0.0, 100.0]
    positive = make_transform("positive", np.array([0.0, 4.0, 10.0]))
    assert positive.log_floor == 2.0 and np.allclose(positive.inverse(positive.forward([0.0, 4.0])), [2.0, 4.0])
