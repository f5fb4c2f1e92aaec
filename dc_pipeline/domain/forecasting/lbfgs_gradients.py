"""The gradients the ETS and SARIMAX fits have L-BFGS-B approximate, computed without scipy's wrapping.

Without a gradient, scipy's L-BFGS-B takes forward differences with a fixed absolute step (its `eps`: 1e-8 as
ExponentialSmoothing leaves it, 1e-5 as statsmodels' state-space fit sets it), flipped or shortened at a bound,
and evaluates each shifted point through layers of wrappers that copy, check and convert the vector: on these
short series the wrappers cost several times an ETS smoothing recursion and a tenth of a SARIMAX likelihood.
`forward_differences` takes the same steps in the same arithmetic and calls the loss directly, so the optimiser
sees the same numbers and each fit ends at the same estimates, bit for bit (tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize._constraints import old_bound_to_new
from scipy.optimize._numdiff import _adjust_scheme_to_bounds

ETS_STEP = 1e-8  # scipy's L-BFGS-B default `eps`, the absolute finite-difference step of ExponentialSmoothing.fit
SARIMAX_STEP = 1e-5  # the `epsilon` MLEModel.fit hands L-BFGS-B
FALLBACK_STEP = float(np.finfo(float).eps ** 0.5)  # scipy's relative step where x + step rounds back to x


def forward_differences(
    loss: Callable[[np.ndarray], float], x: np.ndarray, f0: float, step: float, lb: np.ndarray, ub: np.ndarray
) -> np.ndarray:
    """scipy's approx_derivative(loss, x, '2-point', abs_step=step, f0=f0, bounds=(lb, ub)), unwrapped."""
    h = np.full(x.size, step)
    sign = (x >= 0).astype(float) * 2 - 1
    h = np.where((x + h) - x == 0, FALLBACK_STEP * sign * np.maximum(1.0, np.abs(x)), h)
    h, _ = _adjust_scheme_to_bounds(x, h, 1, "1-sided", lb, ub)
    grad = np.empty(x.size)
    for i in range(x.size):
        shifted = x.copy()
        shifted[i] = x[i] + h[i]
        grad[i] = (loss(shifted) - f0) / ((x[i] + h[i]) - x[i])
    return grad


def ets_gradient(model: Any) -> Callable[[np.ndarray, Any], np.ndarray]:
    """`jac` for `model.fit(minimize_kwargs={"jac": ...})` of a statsmodels ExponentialSmoothing model."""
    from statsmodels.tsa.holtwinters.model import SMOOTHERS, opt_wrapper

    smoother = opt_wrapper(SMOOTHERS[(model.seasonal, model.trend)])
    # The bounds _optimize_parameters hands to minimize: smoothing parameters on [0, 1], the rest its own.
    bounds = [(0.0, 1.0)] * 3 + list(model._construct_bounds()[3:])

    def gradient(x: np.ndarray, hw_args: Any) -> np.ndarray:
        def loss(v: np.ndarray) -> float:
            fv = smoother(v, hw_args)
            return fv if np.isscalar(fv) else np.asarray(fv).item()

        selected = np.asarray(hw_args.xi, dtype=bool)
        lb, ub = old_bound_to_new([b for b, keep in zip(bounds, selected) if keep])
        x = np.asarray(x, dtype=float)
        return forward_differences(loss, x, loss(x.copy()), ETS_STEP, lb, ub)

    return gradient


def sarimax_loglike_and_score(model: Any) -> Callable[..., tuple[float, np.ndarray]]:
    """`loglike_and_score` for `model.fit(approx_grad=False, epsilon=None, loglike_and_score=...)` of a SARIMAX
    model: the scaled log-likelihood statsmodels' L-BFGS-B path maximises and its forward-difference gradient."""
    nobs = model.endog.shape[0]
    unbounded = np.array(-np.inf), np.array(np.inf)

    def loglike_and_score(x: np.ndarray, *args: Any) -> tuple[float, np.ndarray]:
        def loss(v: np.ndarray) -> float:  # LikelihoodModel.fit's objective
            return -model.loglike(v, *args) / nobs

        x = np.asarray(x, dtype=float)
        f0 = loss(x.copy())
        # statsmodels negates both back: the optimiser gets f0 and the gradient exactly.
        return -f0, -forward_differences(loss, x, f0, SARIMAX_STEP, *unbounded)

    return loglike_and_score
