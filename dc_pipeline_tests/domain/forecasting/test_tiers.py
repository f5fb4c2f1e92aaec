import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.forecasting import QUANTILE_COLUMNS, forecast_series, tier_for
from dc_pipeline.domain.forecasting.candidates import NON_SEASONAL_ETS

from .helpers import FAST_TUNING, monthly, white_noise


def _run(y, kind="score", m=12, horizon=6, name="t"):
    return forecast_series(y, kind=kind, m=m, horizon=horizon, settings=FAST_TUNING, name=name)


@pytest.mark.parametrize(
    "n, m, tier",
    [
        (3, 12, "none"),
        (4, 12, "naive"),
        (7, 12, "naive"),
        (8, 12, "ets"),
        (27, 12, "ets"),
        (28, 12, "tuned"),
        (11, 4, "ets"),
        (12, 4, "tuned"),
    ],
)
def test_tier_boundaries_follow_the_spec_table(n, m, tier):
    assert tier_for(n, m) == tier


def test_two_periods_give_no_forecast_with_the_exact_reason():
    r = _run(monthly([78.6, 81.2], start="2024-01-01"))
    assert (r.tier, r.status) == ("none", "insufficient_data")
    assert r.reason == "insufficient history: 2 periods, 4 needed"
    assert r.quantiles.empty and list(r.quantiles.columns) == ["horizon", "period", *QUANTILE_COLUMNS]


def test_nan_periods_do_not_count_as_history():
    y = monthly([70.0, np.nan, 72.0, np.nan, np.nan, 71.0])
    r = _run(y)
    assert r.tier == "none" and r.reason == "insufficient history: 3 periods, 4 needed"


def test_six_periods_give_an_unvalidated_naive_forecast_widening_with_sqrt_h():
    values = np.array([60.0, 62.0, 61.0, 64.0, 63.0, 65.0])
    r = _run(monthly(values), horizon=4)
    assert (r.tier, r.status, r.published_method) == ("naive", "ok", "naive")
    assert r.reason == "unvalidated (n < 8)"
    q = r.quantiles
    assert np.allclose(q["q0.5"], 65.0)  # last value
    # On the logit scale the 95 % half-width is 1.96 * sd(first differences) * sqrt(h).
    z = np.log(values / (100 - values))
    half = np.log(q["q0.975"] / (100 - q["q0.975"])) - z[-1]
    assert np.allclose(half, 1.959964 * np.std(np.diff(z), ddof=1) * np.sqrt([1, 2, 3, 4]), rtol=1e-6)
    assert list(q["period"]) == list(pd.date_range("2021-07-01", periods=4, freq="MS"))


def test_ten_periods_give_an_ets_forecast_with_a_rolling_origin_backtest():
    r = _run(white_noise(10, seed=3), horizon=6)
    assert r.tier == "ets" and r.status == "ok"
    assert r.method in {s.label() for s in NON_SEASONAL_ETS}
    bt = r.backtest
    # min(6, 10 - 6) = 4 origins; horizons 1..4, 1..3, 1..2, 1 -> 10 points, enough to calibrate on
    assert bt["n_origins"] == 4 and bt["n_points"] == 10
    assert [o["n_train"] for o in bt["origins"]] == [6, 7, 8, 9]
    assert [len(o["errors"]) for o in bt["origins"]] == [4, 3, 2, 1]
    assert r.interval_method == "calibrated" and bt["calibration"]["n_errors"] == 10
    # ... but not to measure coverage: judged without the errors on its own actuals, even the last
    # origin keeps only the 6 errors of targets 6..8
    assert bt["coverage_80"] is None and bt["coverage_reason"] == "coverage not measurable: 0 points, 10 needed"
    assert bt["rel_mase"] == pytest.approx(bt["mase"] / bt["snaive_mase"])
    if bt["rel_mase"] < 1:
        assert r.published_method == r.method and r.reason.startswith("model beat seasonal naive")
    else:
        assert r.published_method == "seasonal_naive"
        assert r.reason == f"model did not beat seasonal naive: relative MASE {bt['rel_mase']:.2f}"


def test_six_backtest_points_give_model_intervals_and_no_coverage():
    r = _run(white_noise(9, seed=4), horizon=6)
    assert r.tier == "ets" and r.backtest["n_points"] == 6
    assert r.interval_method == "model" and r.backtest["coverage_80"] is None
    assert r.backtest["coverage_reason"] == "coverage not measurable: 0 points, 10 needed"


def test_a_longer_history_measures_coverage_on_every_rolling_origin():
    r = _run(white_noise(24, seed=6), horizon=6)
    bt = r.backtest
    assert bt["n_origins"] == 6 and bt["calibration"]["n_errors"] == 93  # 18 origins, 6..23
    assert bt["coverage_reason"] is None and bt["coverage_n_points"] >= 50
    assert 0.0 <= bt["coverage_80"] <= bt["coverage_95"] <= 1.0


def test_backtest_scores_only_observed_actuals():
    y = white_noise(12, seed=5)
    y.iloc[9] = np.nan  # a gap inside the backtest window (grid position 9)
    r = _run(y, horizon=6)
    assert r.n_observed == 11
    origins = r.backtest["origins"]
    # Origins at the last min(6, 11 - 6) = 5 observed points: grid positions 6, 7, 8, 10, 11.
    assert [o["n_train"] for o in origins] == [6, 7, 8, 10, 11]
    # The unobserved position 9 is never scored: it is horizon 4, 3 and 2 of the first three origins.
    assert [o["horizons"] for o in origins] == [[1, 2, 3, 5, 6], [1, 2, 4, 5], [1, 3, 4], [1, 2], [1]]
    assert r.backtest["n_points"] == 15


def test_positive_outcomes_stay_positive():
    rng = np.random.default_rng(11)
    revenue = 1e6 * 0.8 ** np.arange(12) * np.exp(rng.normal(0, 0.05, 12))
    revenue[3] = 0.0  # a zero is allowed for a 'positive' outcome
    r = _run(monthly(revenue), kind="positive", horizon=12)
    assert r.tier == "ets"
    assert (r.quantiles[list(QUANTILE_COLUMNS)].to_numpy() > 0).all()


def test_quantiles_are_monotone_in_q_for_every_tier():
    for n in (5, 12):
        r = _run(white_noise(n, seed=n), horizon=12)
        values = r.quantiles[list(QUANTILE_COLUMNS)].to_numpy()
        assert values.shape == (12, len(QUANTILE_COLUMNS))
        assert (np.diff(values, axis=1) >= 0).all()
        assert (values[:, -1] > values[:, 0]).all()  # a real interval, not a point


def test_a_model_that_loses_to_seasonal_naive_is_not_published():
    # A pure 12-month cycle: the non-seasonal ETS of the ets tier cannot follow it, the seasonal
    # naive repeats it almost exactly.
    rng = np.random.default_rng(12)
    t = np.arange(26)
    y = monthly(50 + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 26))
    r = _run(y, kind="real", horizon=12)
    assert r.tier == "ets"
    rel = r.backtest["rel_mase"]
    assert rel >= 1
    assert r.published_method == "seasonal_naive" and r.method != "seasonal_naive"
    assert r.reason == f"model did not beat seasonal naive: relative MASE {rel:.2f}"
    # the published median repeats the last observed season
    assert np.allclose(r.quantiles["q0.5"].to_numpy(), y.to_numpy()[-12:])
    assert np.allclose(r.benchmark["seasonal_naive"].to_numpy(), y.to_numpy()[-12:])


def test_constant_history_publishes_the_constant_without_modelling():
    r = _run(monthly(np.full(12, 70.0)), horizon=3)
    assert r.tier == "ets" and r.status == "ok" and r.published_method == "seasonal_naive"
    assert r.reason == "constant history: nothing to model, the constant is published"
    assert np.allclose(r.quantiles[list(QUANTILE_COLUMNS)].to_numpy(), 70.0)


def test_all_zero_positive_series_cannot_be_modelled_on_the_log_scale():
    r = _run(monthly(np.zeros(10)), kind="positive")
    assert (r.tier, r.status) == ("none", "insufficient_data")
    assert r.reason == "no positive value to model on the log scale: 10 periods, all 0"
