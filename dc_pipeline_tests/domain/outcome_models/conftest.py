"""Synthetic brand-period panels for the outcome-model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.source_tables import SECTIONS


def make_panel(n_brands: int, n_periods: int, seed: int) -> pd.DataFrame:
    """Section scores around a brand level with period-to-period variation; DC = their mean."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2022-01-01", periods=n_periods, freq="MS")
    level = rng.uniform(50, 85, n_brands)
    brand = np.repeat(np.arange(n_brands) + 11, n_periods)
    period = np.tile(periods, n_brands)
    common = np.repeat(level, n_periods) + rng.normal(0, 5, n_brands * n_periods)
    sections = common[:, None] + rng.normal(0, 2, (n_brands * n_periods, len(SECTIONS)))
    df = pd.DataFrame(sections, columns=list(SECTIONS))
    df.insert(0, "brand_id", brand)
    df.insert(1, "period", period)
    df["dc"] = df[list(SECTIONS)].mean(axis=1)
    return df


@pytest.fixture
def panel_factory():
    return make_panel
