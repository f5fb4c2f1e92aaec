"""Expanding-window cross-validation over distinct periods (SPEC §6a): no random splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def n_folds(n_periods: int) -> int:
    return max(0, min(5, n_periods - 2))


@dataclass(frozen=True)
class Fold:
    number: int  # 0-based; the pruning step
    test_period: pd.Timestamp
    train_idx: np.ndarray  # positional indices into the modelling frame
    test_idx: np.ndarray


def expanding_window_folds(periods: pd.Series) -> list[Fold]:
    """Fold i trains on every period up to T_i and tests on T_{i+1}, all brands together; the
    k = min(5, n_periods - 2) folds test the last k periods, so training always spans >= 2 periods."""
    values = pd.to_datetime(periods).to_numpy()
    distinct = np.sort(np.unique(values))
    k = n_folds(len(distinct))
    folds = []
    for i, test_period in enumerate(distinct[len(distinct) - k :]):
        folds.append(
            Fold(
                number=i,
                test_period=pd.Timestamp(test_period),
                train_idx=np.flatnonzero(values < test_period),
                test_idx=np.flatnonzero(values == test_period),
            )
        )
    return folds
