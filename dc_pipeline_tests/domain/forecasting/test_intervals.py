import math

import numpy as np
from scipy.stats import norm
from scipy.stats import t as student_t

from dc_pipeline.domain.forecasting.candidates import PointForecast
from dc_pipeline.domain.forecasting.intervals import (
    CENTRAL_LEVELS,
    MIN_CALIBRATION_ERRORS,
    MIN_PER_HORIZON,
    QUANTILE_COLUMNS,
    QUANTILES,
    CalibrationErrors,
    backtest_coverage,
    conformal_half_width,
    interval_rule,
    pooled_half_width,
)
from dc_pipeline.domain.forecasting.transforms import make_transform


def errors_of(origins: dict[int, list[float]]) -> CalibrationErrors:
    """Errors per origin position: the k-th error of origin o is its horizon k + 1, target o + k."""
    rows = [(abs(e), k + 1, o + k) for o, errs in origins.items() for k, e in enumerate(errs)]
    e, h, t = (np.array(c) for c in zip(*rows))
    return CalibrationErrors(e.astype(float), h.astype(int), t.astype(int))


def test_quantile_columns_are_the_spec_levels():
    assert QUANTILE_COLUMNS == ("q0.005", "q0.025", "q0.05", "q0.1", "q0.5", "q0.9", "q0.95", "q0.975", "q0.995")


def test_conformal_half_width_takes_the_finite_sample_rank():
    errors = np.random.default_rng(0).permutation(np.arange(1.0, 21.0))  # 1 .. 20
    assert conformal_half_width(errors, 0.8) == 17.0  # ceil(21 * 0.8) = 17th smallest
    assert conformal_half_width(errors, 0.95) == 20.0  # ceil(19.95): the largest
    assert conformal_half_width(errors, 0.99) is None  # 99 % needs 99 errors


def test_pooled_half_width_is_a_t_prediction_quantile_over_distinct_targets():
    # three origins of three horizons over targets 10..14: 5 distinct actuals, not 9 errors
    errors = errors_of({10: [1.0, 2.0, 3.0], 11: [1.0, 2.0, 3.0], 12: [1.0, 2.0, 3.0]})
    scores = errors.abs_error / np.sqrt(errors.horizon)
    rms = math.sqrt(np.mean(scores**2))
    expected = student_t.ppf(0.9, 4) * rms * math.sqrt(1 + 1 / 5)
    assert math.isclose(pooled_half_width(errors, 0.8), expected)


def test_pooled_half_width_equals_the_t_quantile_bit_for_bit():
    """stdtrit stands in for scipy.stats.t.ppf: the same number, for every level and count of targets."""
    for n_targets in range(2, 60):
        errors = errors_of({10 + i: [1.0 + i % 3] for i in range(n_targets)})
        scores = errors.abs_error / np.sqrt(errors.horizon)
        rms = float(np.sqrt(np.mean(scores**2)))
        for level in CENTRAL_LEVELS:
            expected = float(student_t.ppf(0.5 + level / 2, n_targets - 1) * rms * math.sqrt(1 + 1 / n_targets))
            assert pooled_half_width(errors, level) == expected


def test_too_few_errors_fall_back_to_the_model_sd():
    few = errors_of({10: [0.1] * (MIN_CALIBRATION_ERRORS - 1)})
    rule = interval_rule(few)
    assert rule.method == "model"
    forecast = PointForecast(np.zeros(3), np.array([1.0, 2.0, 3.0]))
    assert np.allclose(rule.half_widths(forecast)[:, 0], norm.ppf(0.9) * np.array([1.0, 2.0, 3.0]))
    assert interval_rule(errors_of({10: [0.1] * MIN_CALIBRATION_ERRORS})).method == "calibrated"


def test_a_horizon_with_enough_errors_gets_its_own_quantile_the_others_are_pooled():
    rng = np.random.default_rng(1)
    # 25 origins: horizon 1 has 25 errors (own quantile), horizon 2 has 12 (pooled)
    origins = {o: [rng.normal(0, 1.0)] + ([rng.normal(0, 5.0)] if o % 2 else []) for o in range(10, 35)}
    errors = errors_of(origins)
    rule = interval_rule(errors)
    assert rule.per_horizon == (1,)
    at_h1 = errors.abs_error[errors.horizon == 1]
    widths = rule.half_widths(PointForecast(np.zeros(12), np.zeros(12)))
    assert widths[0, CENTRAL_LEVELS.index(0.8)] == conformal_half_width(at_h1, 0.8)
    assert math.isclose(widths[1, CENTRAL_LEVELS.index(0.8)], pooled_half_width(errors, 0.8) * math.sqrt(2))
    # past the backtest's six horizons the half-width grows like sqrt(h); never shrinks with h or level
    assert math.isclose(widths[11, 0], widths[5, 0] * math.sqrt(12 / 6))
    assert (np.diff(widths, axis=0) >= 0).all() and (np.diff(widths, axis=1) >= 0).all()
    assert len(at_h1) >= MIN_PER_HORIZON


def test_offsets_are_symmetric_and_zero_at_the_median():
    rule = interval_rule(errors_of({o: list(np.random.default_rng(o).normal(0, 1, 3)) for o in range(10, 20)}))
    offsets = rule.offsets(PointForecast(np.zeros(4), np.zeros(4)))
    assert offsets.shape == (4, len(QUANTILES))
    assert (offsets[:, QUANTILES.index(0.5)] == 0).all() and np.allclose(offsets, -offsets[:, ::-1])
    assert (np.diff(offsets, axis=1) >= 0).all()


def test_coverage_never_calibrates_on_the_actuals_it_judges():
    # 25 one-step errors, one of them a bad miss. Calibrated on all 25, the 95 % half-width is the
    # largest error (rank ceil(26 * 0.95) = 25) and covers the miss; judged by the other 24 it is out.
    small = np.random.default_rng(2).uniform(0.0, 0.1, 24)
    errors = errors_of({10 + i: [e] for i, e in enumerate([*small, 5.0])})
    in_sample = interval_rule(errors).half_widths(PointForecast(np.zeros(1), np.zeros(1)))
    assert in_sample[0, CENTRAL_LEVELS.index(0.95)] == 5.0
    coverage = backtest_coverage(errors)
    assert coverage["coverage_n_points"] == 25 and coverage["coverage_n_origins"] == 25
    assert coverage["coverage_95"] == 24 / 25
    assert coverage["coverage_reason"] is None


def test_coverage_needs_ten_points_judged_out_of_sample():
    # six origins of a 12-point series: only the last three actuals have ten errors outside their window
    errors = errors_of({o: [0.1] * min(6, 12 - o) for o in range(6, 12)})
    coverage = backtest_coverage(errors)
    assert coverage["coverage_80"] is None and coverage["coverage_n_points"] == 3
    assert coverage["coverage_reason"] == "coverage not measurable: 3 points, 10 needed"


def test_transforms_round_trip_and_respect_bounds():
    score = make_transform("score", np.array([10.0, 50.0]))
    x = np.array([0.5, 10.0, 50.0, 99.5])
    assert np.allclose(score.inverse(score.forward(x)), x)
    assert score.inverse(np.array([-1e6, 1e6])).tolist() == [0.0, 100.0]
    positive = make_transform("positive", np.array([0.0, 4.0, 10.0]))
    assert positive.log_floor == 2.0 and np.allclose(positive.inverse(positive.forward([0.0, 4.0])), [2.0, 4.0])
