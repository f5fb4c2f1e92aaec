"""Seeded synthetic series for the forecaster tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.tuning import TuningSettings

FAST_TUNING = TuningSettings(n_trials=8, timeout_s=120.0, n_jobs=1, sampler="TPE", pruner="median", patience=30)


def monthly(values, start: str = "2021-01-01") -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"))


def trend_series(n: int = 48, slope: float = 0.8, noise: float = 1.5, seed: int = 7) -> pd.Series:
    rng = np.random.default_rng(seed)
    return monthly(20.0 + slope * np.arange(n) + rng.normal(0.0, noise, n))


def white_noise(n: int = 48, mean: float = 50.0, sd: float = 5.0, seed: int = 7) -> pd.Series:
    return monthly(mean + np.random.default_rng(seed).normal(0.0, sd, n))
