"""Forecasting candidates on the model scale (SPEC §6b): naive, seasonal naive, ETS, SARIMAX and
ridge-on-lags.

Each candidate fits a training window `z` and returns the point forecast and a model-based
standard deviation per horizon. Linear models share one variance rule: the h-step error variance
is sigma^2 * sum_{j<h} psi_j^2, with psi the model's impulse-response weights, so intervals widen
the way the model itself propagates a shock.

ETS and SARIMAX also return their estimates, the start of the fit on the next, slightly longer window of a
backtest (`warm_chain`): the optimum moves little between neighbouring windows, so a warm start needs fewer
iterations and no brute-force start grid.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from dc_pipeline.domain.forecasting.lbfgs_gradients import ets_gradient, sarimax_loglike_and_score

Family = Literal["naive", "seasonal_naive", "ets", "sarimax", "ridge"]

# What a candidate that cannot be fitted on a window raises (statsmodels is not consistent).
FIT_ERRORS: tuple[type[BaseException], ...] = (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError)

SARIMAX_MAXITER = 15  # SARIMAX fits dominate the run time; the backtest judges the fit that results


@dataclass(frozen=True)
class CandidateSpec:
    family: Family
    params: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        if not self.params:
            return self.family
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(self.params.items()))
        return f"{self.family}({inner})"


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class PointForecast:
    mean: np.ndarray  # model-scale point forecast, horizons 1..h
    sd: np.ndarray  # model-based standard deviation per horizon
    aicc: float | None = None
    params: np.ndarray | None = None  # the fitted estimates (ETS, SARIMAX): a start for a neighbouring window


def sd_from_psi(sigma: float, psi: np.ndarray) -> np.ndarray:
    """sd_h = sigma * sqrt(sum_{j<h} psi_j^2), psi_0 = 1."""
    return sigma * np.sqrt(np.cumsum(np.asarray(psi, dtype=float) ** 2))


def seasonal_lag(n_train: int, m: int) -> int:
    """Lag m, or lag 1 when the window holds no more than one season (SPEC §6b)."""
    return m if n_train > m else 1


def naive_forecast(z: np.ndarray, horizon: int) -> PointForecast:
    """Last value; sd of first differences times sqrt(h)."""
    diffs = np.diff(z)
    sigma = float(np.std(diffs, ddof=1)) if diffs.size >= 2 else 0.0
    return PointForecast(np.full(horizon, z[-1]), sigma * np.sqrt(np.arange(1, horizon + 1)))


def seasonal_naive_forecast(z: np.ndarray, horizon: int, m: int) -> PointForecast:
    """Value one season back; sd of the seasonal differences times sqrt(completed seasons + 1)."""
    lag = seasonal_lag(len(z), m)
    h = np.arange(1, horizon + 1)
    source = len(z) - lag + (h - 1) % lag
    diffs = z[lag:] - z[:-lag]
    sigma = float(np.sqrt(np.mean(diffs**2))) if diffs.size else 0.0
    return PointForecast(z[source].astype(float), sigma * np.sqrt((h - 1) // lag + 1.0))


def _ets_start(p: dict, trend: str, seasonal: str) -> np.ndarray:
    """The estimates in the order ExponentialSmoothing.fit takes its start_params: smoothing level, trend and
    seasonal, initial level and trend, damping, initial seasons."""
    values = [p["smoothing_level"]]
    values += [p["smoothing_trend"]] if trend != "none" else []
    values += [p["smoothing_seasonal"]] if seasonal != "none" else []
    values += [p["initial_level"]]
    values += [p["initial_trend"]] if trend != "none" else []
    values += [p["damping_trend"]] if trend == "damped" else []
    values += list(p["initial_seasons"]) if seasonal != "none" else []
    return np.asarray(values, dtype=float)


def _ets_forecast(
    z: np.ndarray, horizon: int, m: int, trend: str, seasonal: str, start: np.ndarray | None = None
) -> PointForecast:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(
        z,
        trend=None if trend == "none" else "add",
        damped_trend=trend == "damped",
        seasonal=None if seasonal == "none" else "add",
        seasonal_periods=m if seasonal != "none" else None,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns on near-flat series and computes AICc lazily
        # Without a start, statsmodels searches a grid of smoothing parameters for one (most of a cold fit's time).
        fit = model.fit(start_params=start, use_brute=start is None, minimize_kwargs={"jac": ets_gradient(model)})
        sse, aicc = float(fit.sse), float(fit.aicc)
    p = fit.params
    alpha = float(p["smoothing_level"])
    # statsmodels' smoothing_trend is beta*; the error-correction trend gain is alpha * beta*.
    beta = alpha * float(p.get("smoothing_trend") or 0.0) if trend != "none" else 0.0
    phi = float(p.get("damping_trend") or 1.0) if trend == "damped" else 1.0
    gamma = float(p.get("smoothing_seasonal") or 0.0) if seasonal != "none" else 0.0
    # The point forecast from the last states: fit.forecast() would rerun the smoothing recursion over the window
    # and build pandas frames, a fifth of a warm fit's time (same values: test).
    h = np.arange(1, horizon + 1)
    mean = np.full(horizon, float(fit.level[-1]))
    if trend != "none":
        mean += (h if phi == 1.0 else np.cumsum(phi**h)) * float(fit.trend[-1])
    if seasonal != "none":
        mean += np.asarray(fit.season, dtype=float)[-m:][(h - 1) % m]
    j = np.arange(1, horizon)
    phi_sum = j.astype(float) if phi == 1.0 else phi * (1 - phi**j) / (1 - phi)
    psi = np.concatenate([[1.0], alpha + beta * phi_sum + gamma * (j % m == 0)])
    n_params = 2 + (2 if trend != "none" else 0) + (1 if trend == "damped" else 0) + (m if seasonal != "none" else 0)
    sigma = math.sqrt(sse / max(1, len(z) - n_params))
    if not np.all(np.isfinite(mean)):
        raise ValueError("ETS forecast is not finite")
    estimates = _ets_start(p, trend, seasonal)
    return PointForecast(mean, sd_from_psi(sigma, psi), aicc if math.isfinite(aicc) else None, estimates)


def _sarimax_forecast(
    z: np.ndarray, horizon: int, m: int, params: dict[str, int], start: np.ndarray | None = None
) -> PointForecast:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    order = (params["p"], params["d"], params["q"])
    seasonal = (params["P"], params["D"], params["Q"], m) if params["P"] + params["D"] + params["Q"] else (0, 0, 0, 0)
    needed = params["d"] + params["D"] * m + max(params["p"] + params["P"] * m, params["q"] + params["Q"] * m) + 3
    if len(z) < needed:
        raise ValueError(f"SARIMAX{order}x{seasonal} needs {needed} points, window has {len(z)}")
    trend = "c" if params["d"] + params["D"] == 0 else "n"
    # The innovation variance concentrated out of the likelihood (same maximum, AICc and standard errors): one
    # parameter less to search, a third less time per fit, and more fits converge within SARIMAX_MAXITER.
    # statsmodels cannot concentrate a model without any other parameter.
    concentrate = params["p"] + params["q"] + params["P"] + params["Q"] > 0 or trend == "c"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # cov_type="none": the parameters' covariance (a numerical Hessian, ~5 % of a fit) enters neither the
        # forecast, nor its standard error (the Kalman filter's), nor the AICc.
        model = SARIMAX(z, order=order, seasonal_order=seasonal, trend=trend, concentrate_scale=concentrate)
        estimates = model.fit(
            start_params=start,
            disp=False,
            maxiter=SARIMAX_MAXITER,
            return_params=True,
            approx_grad=False,  # the same forward differences, from sarimax_loglike_and_score
            epsilon=None,
            loglike_and_score=sarimax_loglike_and_score(model),
        )
        # fit() would run the Kalman smoother at the estimates too; the forecast and the AICc need the filter only.
        fit = model.filter(estimates, cov_type="none")
        pred = fit.get_forecast(horizon)
        aicc = float(fit.aicc)
    mean = np.asarray(pred.predicted_mean, dtype=float)
    sd = np.asarray(pred.se_mean, dtype=float)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(sd))):
        raise ValueError("SARIMAX forecast is not finite")
    return PointForecast(mean, sd, aicc if math.isfinite(aicc) else None, np.asarray(estimates, dtype=float))


def _ridge_design(z: np.ndarray, lags: int, dummies: bool, m: int, season0: int, rows: np.ndarray) -> np.ndarray:
    cols = [z[rows - k] for k in range(1, lags + 1)]
    if dummies:
        season = (season0 + rows) % m
        cols += [(season == s).astype(float) for s in range(1, m)]
    return np.column_stack(cols)


def _ridge_forecast(z: np.ndarray, horizon: int, m: int, season0: int, params: dict[str, Any]) -> PointForecast:
    """Ridge regression of z_t on z_{t-1..t-lags} (+ season dummies), forecast recursively."""
    lags, alpha, dummies = int(params["lags"]), float(params["alpha"]), bool(params["month_dummies"])
    rows = np.arange(lags, len(z))
    n_features = lags + (m - 1 if dummies else 0)
    if rows.size < max(4, lags + 2):
        raise ValueError(f"ridge with {lags} lags needs {max(4, lags + 2) + lags} points, window has {len(z)}")
    X = _ridge_design(z, lags, dummies, m, season0, rows)
    target = z[rows]
    mu, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0  # constant columns carry no information; avoid dividing by zero
    Xs = (X - mu) / scale
    coef_s = np.linalg.solve(Xs.T @ Xs + alpha * np.eye(n_features), Xs.T @ (target - target.mean()))
    coef = coef_s / scale
    intercept = target.mean() - mu @ coef
    resid = target - (intercept + X @ coef)
    sigma = math.sqrt(float(resid @ resid) / max(1, rows.size - 1 - min(n_features, rows.size - 2)))

    path = list(z)
    for t in range(len(z), len(z) + horizon):
        x = _ridge_design(np.asarray(path + [0.0]), lags, dummies, m, season0, np.array([t]))[0]
        path.append(float(intercept + x @ coef))
    ar = coef[:lags]
    psi = np.zeros(horizon)
    psi[0] = 1.0
    for j in range(1, horizon):
        k = np.arange(1, min(j, lags) + 1)
        psi[j] = float(ar[k - 1] @ psi[j - k])
    return PointForecast(np.asarray(path[len(z) :]), sd_from_psi(sigma, psi))


def fit_forecast(
    spec: CandidateSpec, z: np.ndarray, horizon: int, m: int, season0: int = 0, start: np.ndarray | None = None
) -> PointForecast:
    """Fit `spec` on the model-scale window `z` and forecast `horizon` steps.

    `season0` is the calendar season of z[0] (only the ridge month dummies use it). `start`, the `params` of the
    same candidate's fit on a neighbouring window, starts the ETS and SARIMAX optimisers. Raises one of
    FIT_ERRORS when the window cannot support the candidate.
    """
    z = np.asarray(z, dtype=float)
    if spec.family == "naive":
        return naive_forecast(z, horizon)
    if spec.family == "seasonal_naive":
        return seasonal_naive_forecast(z, horizon, m)
    if spec.family == "ets":
        return _ets_forecast(
            z, horizon, m, spec.params.get("trend", "none"), spec.params.get("seasonal", "none"), start
        )
    if spec.family == "sarimax":
        return _sarimax_forecast(z, horizon, m, spec.params, start)
    if spec.family == "ridge":
        return _ridge_forecast(z, horizon, m, season0, spec.params)
    raise ValueError(f"unknown candidate family {spec.family!r}")


def warm_chain(
    fit: Callable[[np.ndarray, int, int, np.ndarray | None], PointForecast],
) -> Callable[[np.ndarray, int, int], PointForecast]:
    """A backtest's forecaster: `fit(z, h, season0, start)` on each origin's window in turn, started from the
    latest finite estimates of a window fitted before it (none for the first). One chain serves one backtest,
    whose origins run in order, so every fit depends only on the series, the candidate and the origins."""
    previous: list[np.ndarray | None] = [None]

    def forecaster(z: np.ndarray, h: int, season0: int) -> PointForecast:
        fc = fit(z, h, season0, previous[0])
        if fc.params is not None and np.all(np.isfinite(fc.params)):
            previous[0] = fc.params
        return fc

    return forecaster


NON_SEASONAL_ETS: tuple[CandidateSpec, ...] = (
    CandidateSpec("ets", {"trend": "none", "seasonal": "none"}),
    CandidateSpec("ets", {"trend": "add", "seasonal": "none"}),
    CandidateSpec("ets", {"trend": "damped", "seasonal": "none"}),
)
