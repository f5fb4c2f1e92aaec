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
