"""The gradient statsmodels' ExponentialSmoothing.fit has L-BFGS-B approximate, computed without scipy's wrapping.

Without a `jac`, scipy's L-BFGS-B takes forward differences with an absolute step of 1e-8 (its `eps`), flipped
or shortened at a bound. It evaluates each shifted point through three layers of wrappers that copy, check and
convert the vector: on these short series the wrappers cost about ten times the smoothing recursion itself, and
the differences were most of an ETS fit's time. `ets_gradient` takes the same steps in the same arithmetic and
calls the loss directly, so the optimiser sees the same numbers and the fit ends at the same estimates (test).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize._constraints import old_bound_to_new
from scipy.optimize._numdiff import _adjust_scheme_to_bounds

LBFGSB_STEP = 1e-8  # scipy's L-BFGS-B default `eps`: the absolute finite-difference step
FALLBACK_STEP = float(np.finfo(float).eps ** 0.5)  # scipy's relative step where x + 1e-8 rounds back to x


def ets_gradient(model: Any) -> Callable[[np.ndarray, Any], np.ndarray]:
    """`jac` for `model.fit(minimize_kwargs={"jac": ...})` of a statsmodels ExponentialSmoothing model."""
    from statsmodels.tsa.holtwinters.model import SMOOTHERS, opt_wrapper

    loss = opt_wrapper(SMOOTHERS[(model.seasonal, model.trend)])
    # The bounds _optimize_parameters hands to minimize: smoothing parameters on [0, 1], the rest its own.
    bounds = [(0.0, 1.0)] * 3 + list(model._construct_bounds()[3:])

    def value(x: np.ndarray, hw_args: Any) -> float:
        fx = loss(x, hw_args)
        return fx if np.isscalar(fx) else np.asarray(fx).item()

    def gradient(x: np.ndarray, hw_args: Any) -> np.ndarray:
        selected = np.asarray(hw_args.xi, dtype=bool)
        lb, ub = old_bound_to_new([b for b, keep in zip(bounds, selected) if keep])
        x = np.asarray(x, dtype=float)
        f0 = value(x.copy(), hw_args)
        h = np.full(x.size, LBFGSB_STEP)
        sign = (x >= 0).astype(float) * 2 - 1
        h = np.where((x + h) - x == 0, FALLBACK_STEP * sign * np.maximum(1.0, np.abs(x)), h)
        h, _ = _adjust_scheme_to_bounds(x, h, 1, "1-sided", lb, ub)
        grad = np.empty(x.size)
        for i in range(x.size):
            shifted = x.copy()
            shifted[i] = x[i] + h[i]
            grad[i] = (value(shifted, hw_args) - f0) / ((x[i] + h[i]) - x[i])
        return grad

    return gradient
