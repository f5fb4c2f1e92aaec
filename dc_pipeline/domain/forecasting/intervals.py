"""Forecast quantiles (SPEC §6b "Intervals").

With at least 20 backtest errors the interval shape is empirical: each error is standardised by
the model's own sd at its horizon, and the quantiles of those standardised errors are scaled by
the final model's sd at every forecast horizon (so horizons beyond the backtest's 6 still widen
the way the model says). With fewer errors the intervals are Gaussian on the model scale. Both
are built on the model scale and back-transformed, which keeps scores in [0, 100] and positive
outcomes > 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from dc_pipeline.domain.forecasting.candidates import PointForecast
from dc_pipeline.domain.forecasting.transforms import Transform

QUANTILES: tuple[float, ...] = (0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995)
QUANTILE_COLUMNS: tuple[str, ...] = tuple(f"q{q:g}" for q in QUANTILES)
MIN_EMPIRICAL_ERRORS = 20


def quantile_multipliers(standardized_errors: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Multipliers of the sd for each quantile, and which rule produced them."""
    if standardized_errors is not None and len(standardized_errors) >= MIN_EMPIRICAL_ERRORS:
        return np.quantile(standardized_errors, QUANTILES), "empirical"
    return norm.ppf(QUANTILES), "model"


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
