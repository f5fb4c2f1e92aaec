"""The ETS gradient and the SARIMAX score take scipy's own finite differences: the fits end at the same estimates,
bit for bit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize._numdiff import approx_derivative
from statsmodels.tsa.holtwinters import ExponentialSmoothing
from statsmodels.tsa.holtwinters.model import SMOOTHERS, HoltWintersArgs, opt_wrapper
from statsmodels.tsa.statespace.sarimax import SARIMAX

from dc_pipeline.domain.forecasting.lbfgs_gradients import ETS_STEP, ets_gradient, sarimax_loglike_and_score

SHAPES = [  # trend, damped, seasonal
    (None, False, None),
    ("add", False, None),
    ("add", True, None),
    ("add", True, "add"),
]


def _series(n: int = 38) -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(n)
    return 50 + np.cumsum(rng.normal(size=n)) + 4 * np.sin(2 * np.pi * t / 12)


def _model(z: np.ndarray, trend, damped, seasonal) -> ExponentialSmoothing:
    return ExponentialSmoothing(
        z,
        trend=trend,
        damped_trend=damped,
        seasonal=seasonal,
        seasonal_periods=12 if seasonal else None,
        initialization_method="estimated",
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("warm", [False, True])
def test_fit_with_the_gradient_ends_at_the_same_estimates(shape, warm):
    z = _series()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = _model(z[:-1], *shape).fit().params_formatted["param"].to_numpy() if warm else None
        plain_model, fast_model = _model(z, *shape), _model(z, *shape)
        kwargs = {"start_params": start, "use_brute": start is None} if warm else {}
        plain = plain_model.fit(**kwargs)
        fast = fast_model.fit(minimize_kwargs={"jac": ets_gradient(fast_model)}, **kwargs)
    np.testing.assert_array_equal(fast.params_formatted["param"], plain.params_formatted["param"])
    assert fast.sse == plain.sse
    assert fast.mle_retvals.nit == plain.mle_retvals.nit
    # the differences no longer go through scipy's counted evaluations
    assert fast.mle_retvals.nfev < plain.mle_retvals.nfev


def test_gradient_equals_scipys_forward_differences_including_at_a_bound():
    model = _model(_series(), "add", True, None)

    # what _optimize_parameters hands the loss: the selected parameters and the fixed ones
    sel = np.array([1, 1, 0, 1, 1, 1], dtype=np.int64)
    params = np.array([0.5, 0.1, 0.0, 50.0, 0.2, 0.9])
    hw_args = HoltWintersArgs(sel, params, np.array([[0.0, 1.0]] * 3), model.endog, 0, model.nobs)
    hw_args.transform = True
    loss = opt_wrapper(SMOOTHERS[(None, "add")])
    lb = np.array([0.0, 0.0, -np.inf, -np.inf, 0.8])
    ub = np.array([1.0, 1.0, np.inf, np.inf, 0.995])
    for x in (np.array([0.3, 0.2, 49.0, 0.1, 0.9]), np.array([0.3, 1.0, 49.0, 0.1, 0.995])):  # interior, at bounds
        expected = approx_derivative(
            lambda v: loss(v, hw_args), x, method="2-point", abs_step=ETS_STEP, bounds=(lb, ub), f0=loss(x, hw_args)
        )
        np.testing.assert_array_equal(ets_gradient(model)(x, hw_args), expected)


@pytest.mark.parametrize(
    "order, seasonal, trend",
    [((1, 0, 1), (1, 0, 0, 12), "c"), ((0, 1, 1), (0, 1, 1, 12), "n"), ((1, 1, 0), (0, 0, 0, 0), "n")],
)
def test_sarimax_fit_with_the_score_ends_at_the_same_estimates(order, seasonal, trend):
    z = _series()
    estimates = []
    start = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in (len(z) - 1, len(z)):  # a cold fit, then one warm-started from it as a backtest chains them
            fits = []
            for unwrapped in (False, True):
                model = SARIMAX(z[:n], order=order, seasonal_order=seasonal, trend=trend, concentrate_scale=True)
                score = {"approx_grad": False, "epsilon": None, "loglike_and_score": sarimax_loglike_and_score(model)}
                fits.append(
                    model.fit(
                        start_params=start, disp=False, maxiter=15, return_params=True, **(score if unwrapped else {})
                    )
                )
            np.testing.assert_array_equal(fits[1], fits[0])
            estimates.append(fits[0])
            start = fits[0]
    assert not np.array_equal(estimates[0], estimates[1])  # the two windows' fits differ: the check compared fits
