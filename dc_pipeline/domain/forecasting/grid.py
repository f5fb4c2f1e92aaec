"""Put an observed series on its regular period grid (monthly m=12, quarterly m=4).

Missing periods between the first and last observation are filled by linear interpolation on the
model scale, so models see an evenly spaced series; the `observed` mask keeps track of which
points are real, and only real points are ever scored in a backtest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.forecasting.transforms import Transform


@dataclass(frozen=True)
class GridSeries:
    periods: pd.DatetimeIndex  # regular grid from the first to the last observed period
    z: np.ndarray  # model-scale values, gaps interpolated
    y: np.ndarray  # original-scale values (inverse of z, so gaps are consistent)
    observed: np.ndarray  # True where the value was observed
    months_per_period: int
    m: int

    @property
    def n_observed(self) -> int:
        return int(self.observed.sum())

    def season_of(self, position: int) -> int:
        """Calendar season (0..m-1) of a grid position: month of year, or quarter of year."""
        start = self.periods[0]
        return ((start.month - 1) // self.months_per_period + position) % self.m

    def future_periods(self, horizon: int) -> pd.DatetimeIndex:
        last = self.periods[-1]
        return pd.DatetimeIndex(
            [last + pd.DateOffset(months=self.months_per_period * h) for h in range(1, horizon + 1)]
        )


def months_per_period(m: int) -> int:
    if m < 1 or 12 % m:
        raise ValueError(f"seasonal period m={m} must divide 12 (12 monthly, 4 quarterly)")
    return 12 // m


def clean_observations(y: pd.Series) -> pd.Series:
    """Finite values indexed by period Timestamps, sorted; duplicate periods are an error."""
    s = pd.Series(np.asarray(y, dtype=float), index=pd.DatetimeIndex(pd.to_datetime(y.index)))
    s = s[np.isfinite(s.to_numpy())].sort_index()
    if s.index.has_duplicates:
        dupes = s.index[s.index.duplicated()].unique()
        raise ValueError(f"series has {len(dupes)} duplicate periods, e.g. {dupes[0].date()}")
    return s


def to_grid(observations: pd.Series, transform: Transform, m: int) -> GridSeries:
    """Regular grid for `clean_observations` output (at least one value)."""
    step = months_per_period(m)
    idx = observations.index
    ordinal = idx.year * 12 + (idx.month - 1)
    offset = np.asarray(ordinal - ordinal[0])
    if (offset % step).any():
        raise ValueError(f"periods are not on a {step}-month grid starting {idx[0].date()}")
    positions = offset // step
    length = int(positions[-1]) + 1
    z_obs = transform.forward(observations.to_numpy())
    grid_positions = np.arange(length)
    z = np.interp(grid_positions, positions, z_obs)
    observed = np.zeros(length, dtype=bool)
    observed[positions] = True
    y = transform.inverse(z)
    y[positions] = observations.to_numpy()  # keep the exact observed values on the original scale
    periods = pd.DatetimeIndex([idx[0] + pd.DateOffset(months=step * int(k)) for k in grid_positions])
    return GridSeries(periods=periods, z=z, y=y, observed=observed, months_per_period=step, m=m)
