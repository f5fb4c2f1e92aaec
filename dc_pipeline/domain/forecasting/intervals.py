"""Forecast quantiles (SPEC §6b "Intervals").

With at least 20 backtest errors the interval shape is empirical: each error is standardised by
the model's own sd at its horizon, and the quantiles of those standardised errors are scaled by
the final model's sd at every forecast horizon (so horizons beyond the backtest's 6 still widen
the way the model says). They are centred on their median, so q0.5 is the point forecast. A tail
quantile the sample cannot resolve (fewer than one error beyond it) is extended from the outermost
resolvable one with the Gaussian tail ratio, rather than pinned to the sample extreme. With fewer
errors the intervals are Gaussian on the model scale. Everything is built on the model scale and
back-transformed, which keeps scores in [0, 100] and positive outcomes > 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from dc_pipeline.domain.forecasting.backtest import BacktestResult
from dc_pipeline.domain.forecasting.candidates import PointForecast
from dc_pipeline.domain.forecasting.transforms import Transform

QUANTILES: tuple[float, ...] = (0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995)
QUANTILE_COLUMNS: tuple[str, ...] = tuple(f"q{q:g}" for q in QUANTILES)
MIN_EMPIRICAL_ERRORS = 20


def empirical_multipliers(standardized_errors: np.ndarray, levels=QUANTILES) -> np.ndarray:
    """Standardised-error quantiles at ascending `levels`, tails extended past the sample's reach."""
    e = np.asarray(standardized_errors, dtype=float)
    n = e.size
    levels = np.asarray(levels, dtype=float)
    median = float(np.median(e))
    low_edge, high_edge = 1.0 / n, 1.0 - 1.0 / n  # outermost levels with at least one error beyond
    out = np.empty(levels.size)
    for i, q in enumerate(levels):
        if low_edge <= q <= high_edge:
            out[i] = np.quantile(e, q)
        else:
            edge = low_edge if q < low_edge else high_edge
            out[i] = median + (np.quantile(e, edge) - median) * norm.ppf(q) / norm.ppf(edge)
    # Centred on the sample median: the published median stays the model's point forecast and
    # the errors supply the spread and skew, not a bias correction from a handful of origins.
    return np.maximum.accumulate(out - median)


def quantile_multipliers(standardized_errors: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Multipliers of the sd for each quantile, and which rule produced them."""
    if standardized_errors is not None and len(standardized_errors) >= MIN_EMPIRICAL_ERRORS:
        return empirical_multipliers(standardized_errors), "empirical"
    return norm.ppf(QUANTILES), "model"


def empirical_coverage(backtest: BacktestResult) -> tuple[float, float]:
    """Out-of-sample coverage of the empirical 80 % and 95 % intervals.

    Each origin's actuals are checked against intervals calibrated on the other origins' errors
    only; calibrating on the same errors would make coverage nominal by construction.
    """
    inside80: list[bool] = []
    inside95: list[bool] = []
    for i, origin in enumerate(backtest.origins):
        others = BacktestResult([o for j, o in enumerate(backtest.origins) if j != i]).standardized_errors()
        if others.size < 2:
            continue
        lo95, lo80, hi80, hi95 = empirical_multipliers(others, (0.025, 0.1, 0.9, 0.975))
        err, sd = np.asarray(origin.z_error), np.asarray(origin.z_sd)
        inside80 += list((err >= lo80 * sd) & (err <= hi80 * sd))
        inside95 += list((err >= lo95 * sd) & (err <= hi95 * sd))
    return float(np.mean(inside80)), float(np.mean(inside95))


def quantile_frame(
    forecast: PointForecast, periods: pd.DatetimeIndex, transform: Transform, multipliers: np.ndarray
) -> pd.DataFrame:
    """Columns horizon, period, q0.005 ... q0.995 on the original scale, monotone in q."""
    z = forecast.mean[:, None] + forecast.sd[:, None] * np.asarray(multipliers)[None, :]
    values = np.maximum.accumulate(transform.inverse(z), axis=1)  # guard monotonicity after rounding
    frame = pd.DataFrame(values, columns=list(QUANTILE_COLUMNS))
    frame.insert(0, "period", periods)
    frame.insert(0, "horizon", np.arange(1, len(periods) + 1))
    return frame


def empty_quantile_frame() -> pd.DataFrame:
    frame = pd.DataFrame({"horizon": pd.Series(dtype="int64"), "period": pd.Series(dtype="datetime64[ns]")})
    for col in QUANTILE_COLUMNS:
        frame[col] = pd.Series(dtype=float)
    return frame
