"""Rolling-origin, expanding-window backtest (SPEC §6b "Backtest").

Origins sit at the last min(6, n - 6) observed points: each origin trains on every grid point
before it (at least 6) and forecasts horizons 1..min(H, 6). Errors are scored on the original
scale and only where the actual was observed. MASE divides each origin's MAE by the in-sample MAE
of the seasonal naive on that origin's training window (lag m, or lag 1 when the window is <= m);
the seasonal naive itself is scored on the same origins so rel_MASE compares like with like. The
intervals are calibrated on the same backtest run from every observed point after the first 6
(`calibration_positions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dc_pipeline.domain.forecasting.candidates import (
    FIT_ERRORS,
    PointForecast,
    seasonal_lag,
    seasonal_naive_forecast,
)
from dc_pipeline.domain.forecasting.grid import GridSeries
from dc_pipeline.domain.forecasting.transforms import Transform

MIN_TRAIN = 6
MAX_ORIGINS = 6
MAX_BACKTEST_HORIZON = 6

Forecaster = Callable[[np.ndarray, int, int], PointForecast]  # (z_train, horizon, season0)


@dataclass
class OriginResult:
    origin_period: str  # first forecast period of this origin
    n_train: int
    horizons: list[int]
    actual: list[float]  # original scale, observed actuals only
    forecast: list[float]
    snaive_forecast: list[float]
    z_error: list[float]  # model-scale error (actual - forecast)
    mase: float
    snaive_mase: float

    def as_record(self) -> dict:
        return {
            "origin_period": self.origin_period,
            "n_train": self.n_train,
            "mase": self.mase,
            "snaive_mase": self.snaive_mase,
            "errors": [a - f for a, f in zip(self.actual, self.forecast)],
            "horizons": self.horizons,
        }


@dataclass
class BacktestResult:
    origins: list[OriginResult] = field(default_factory=list)
    # The estimates of the fit on the last origin's window: the warm start of the fit on the full series.
    last_params: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        return sum(len(o.horizons) for o in self.origins)

    @property
    def mase(self) -> float:
        return _mean_defined([o.mase for o in self.origins])

    @property
    def snaive_mase(self) -> float:
        return _mean_defined([o.snaive_mase for o in self.origins])

    @property
    def rel_mase(self) -> float:
        model, bench = self.mase, self.snaive_mase
        if not np.isfinite(model) or not np.isfinite(bench):
            return float("nan")
        if bench == 0:
            return 1.0 if model == 0 else float("inf")
        return model / bench

    def summary(self, method: str) -> dict:
        """Point accuracy; the caller adds the coverage of the intervals it publishes."""
        return {
            "method": method,
            "n_origins": len(self.origins),
            "n_points": self.n_points,
            "mase": _finite_or_none(self.mase),
            "snaive_mase": _finite_or_none(self.snaive_mase),
            "rel_mase": _finite_or_none(self.rel_mase),
            "origins": [o.as_record() for o in self.origins],
        }


def _mean_defined(values: list[float]) -> float:
    """Mean over origins whose MASE is defined (a flat training window has no scale)."""
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def origin_positions(series: GridSeries) -> list[int]:
    """Grid positions of the first forecast target of each origin (the last min(6, n-6) observed)."""
    observed = np.flatnonzero(series.observed)
    k = min(MAX_ORIGINS, series.n_observed - MIN_TRAIN)
    if k <= 0:
        return []
    return [int(p) for p in observed[-k:] if p >= MIN_TRAIN]


def calibration_positions(series: GridSeries) -> list[int]:
    """Every observed grid position with at least MIN_TRAIN points before it."""
    return [int(p) for p in np.flatnonzero(series.observed) if p >= MIN_TRAIN]


def mase_scale(y_train: np.ndarray, m: int) -> float:
    """In-sample MAE of the seasonal naive on the training window; lag 1 if lag m gives 0."""
    lag = seasonal_lag(len(y_train), m)
    scale = float(np.mean(np.abs(y_train[lag:] - y_train[:-lag])))
    if scale == 0 and lag != 1:
        scale = float(np.mean(np.abs(np.diff(y_train))))
    return scale


def _scaled_mae(actual: np.ndarray, forecast: np.ndarray, scale: float) -> float:
    if scale > 0:
        return float(np.mean(np.abs(actual - forecast))) / scale
    return float("nan")  # a flat training window gives MASE no scale: the origin is left out


def run_backtest(
    series: GridSeries,
    transform: Transform,
    forecaster: Forecaster,
    horizon: int,
    on_origin: Callable[[int, float], None] | None = None,
    positions: list[int] | None = None,
    skip_unfittable: bool = False,
) -> BacktestResult:
    """Backtest `forecaster` from `positions` (default: the SPEC origins); `on_origin(i,
    running_mean_mase)` runs after each origin (pruning hook).

    Exceptions raised by the forecaster propagate: a candidate that cannot fit one origin is not
    a valid candidate for this series. With `skip_unfittable` (calibration runs from early origins,
    e.g. a seasonal model on less than two seasons) such an origin is left out instead.
    """
    h_max = min(horizon, MAX_BACKTEST_HORIZON)
    result = BacktestResult()
    for i, start in enumerate(origin_positions(series) if positions is None else positions):
        stop = min(start + h_max, len(series.z))
        steps = np.arange(start, stop)
        steps = steps[series.observed[steps]]
        h = steps - start + 1
        z_train, y_train = series.z[:start], series.y[:start]
        try:
            fc = forecaster(z_train, int(h[-1]), series.season_of(0))
        except FIT_ERRORS:
            if skip_unfittable:
                continue
            raise
        result.last_params = fc.params
        bench = seasonal_naive_forecast(z_train, int(h[-1]), series.m)
        mean_z = fc.mean[h - 1]
        actual = series.y[steps]
        forecast = transform.inverse(mean_z)
        snaive = transform.inverse(bench.mean[h - 1])
        scale = mase_scale(y_train, series.m)
        z_actual = series.z[steps]
        result.origins.append(
            OriginResult(
                origin_period=str(series.periods[start].date()),
                n_train=int(start),
                horizons=[int(v) for v in h],
                actual=[float(v) for v in actual],
                forecast=[float(v) for v in forecast],
                snaive_forecast=[float(v) for v in snaive],
                z_error=[float(v) for v in z_actual - mean_z],
                mase=_scaled_mae(actual, forecast, scale),
                snaive_mase=_scaled_mae(actual, snaive, scale),
            )
        )
        if on_origin is not None:
            on_origin(i, result.mase)
    return result
