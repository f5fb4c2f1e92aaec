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
            trend="c" if params["d"] + params["D"] == 0 else "n", concentrate_scale=True,
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


def test_sarimax_with_the_scale_concentrated_out_has_the_full_likelihoods_maximum():
    """concentrate_scale only removes sigma^2 from the search: converged, forecast, sd and AICc are those of the
    full likelihood's maximum; a model with no other parameter (airline differencing alone) still fits."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    z = trend_series(n=40).to_numpy() / 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [
            SARIMAX(z, order=(1, 1, 0), trend="n", concentrate_scale=c).fit(disp=False, maxiter=500) for c in (0, 1)
        ]
    full, concentrated = (f.get_forecast(6) for f in fits)
    np.testing.assert_allclose(concentrated.predicted_mean, full.predicted_mean, rtol=1e-4)
    np.testing.assert_allclose(concentrated.se_mean, full.se_mean, rtol=1e-4)
    assert fits[1].aicc == pytest.approx(fits[0].aicc, rel=1e-6)
    bare = fit_forecast(CandidateSpec("sarimax", {"p": 0, "d": 1, "q": 0, "P": 0, "D": 1, "Q": 0}), z, 6, 12)
    assert np.all(np.isfinite(bare.sd)) and bare.sd[0] > 0


@pytest.mark.parametrize("trend", ["none", "add", "damped"])
@pytest.mark.parametrize("seasonal", ["none", "add"])
def test_ets_point_forecast_is_statsmodels_forecast(trend, seasonal):
    """The ETS candidate forecasts from the fit's last states instead of fit.forecast(): same values."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    z = trend_series(n=40).to_numpy() / 10
    fc = fit_forecast(CandidateSpec("ets", {"trend": trend, "seasonal": seasonal}), z, 30, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(
            z, trend=None if trend == "none" else "add", damped_trend=trend == "damped",
            seasonal=None if seasonal == "none" else "add", seasonal_periods=12 if seasonal != "none" else None,
            initialization_method="estimated",
        ).fit()  # fmt: skip
    np.testing.assert_allclose(fc.mean, fit.forecast(30), rtol=1e-10, atol=1e-10)
