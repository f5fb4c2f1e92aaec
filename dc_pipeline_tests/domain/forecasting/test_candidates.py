import warnings

import numpy as np
import pytest

from dc_pipeline.domain.forecasting.candidates import SARIMAX_MAXITER, CandidateSpec, fit_forecast

from .helpers import trend_series


@pytest.mark.parametrize(
    "params",
    [
        {"p": 1, "d": 0, "q": 1, "P": 0, "D": 0, "Q": 0},
        {"p": 2, "d": 1, "q": 1, "P": 1, "D": 0, "Q": 1},
    ],
)
def test_sarimax_forecast_is_the_one_of_a_fit_with_parameter_covariance(params):
    """The candidate skips the parameters' covariance (cov_type="none"): forecast, sd and AICc must be those of
    statsmodels' default fit, which computes it."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    z = trend_series(n=40).to_numpy() / 10
    fc = fit_forecast(CandidateSpec("sarimax", params), z, 6, 12)
    seasonal = (params["P"], params["D"], params["Q"], 12) if params["P"] + params["D"] + params["Q"] else (0, 0, 0, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = SARIMAX(
            z, order=(params["p"], params["d"], params["q"]), seasonal_order=seasonal,
            trend="c" if params["d"] + params["D"] == 0 else "n",
        ).fit(disp=False, maxiter=SARIMAX_MAXITER)  # fmt: skip
        pred = full.get_forecast(6)
    np.testing.assert_array_equal(fc.mean, np.asarray(pred.predicted_mean))
    np.testing.assert_array_equal(fc.sd, np.asarray(pred.se_mean))
    assert fc.aicc == pytest.approx(float(full.aicc), rel=1e-12)
    assert np.all(np.diff(fc.sd) >= 0)  # the h-step error grows with h


@pytest.mark.parametrize(
    "spec",
    [
        CandidateSpec("ets", {"trend": "damped", "seasonal": "add"}),
        CandidateSpec("sarimax", {"p": 1, "d": 1, "q": 0, "P": 0, "D": 1, "Q": 1}),
    ],
)
def test_a_warm_chain_starts_each_fit_from_the_previous_windows_estimates(spec):
    from dc_pipeline.domain.forecasting.candidates import warm_chain

    z = trend_series(n=40).to_numpy() / 10
    chain = warm_chain(lambda w, h, s0, start: fit_forecast(spec, w, h, 12, s0, start))
    first, second = chain(z[:34], 6, 0), chain(z[:35], 6, 0)
    np.testing.assert_array_equal(first.mean, fit_forecast(spec, z[:34], 6, 12).mean)  # the first fit is cold
    np.testing.assert_array_equal(second.mean, fit_forecast(spec, z[:35], 6, 12, 0, first.params).mean)
    assert first.params is not None and np.all(np.isfinite(second.params))
