import numpy as np
import pandas as pd

from dc_pipeline.domain.forecasting import coherence_gap

PERIODS = pd.date_range("2025-01-01", periods=3, freq="MS")


def _sections():
    return {
        "Marketplace": pd.Series([80.0, 81.0, 82.0], index=PERIODS),
        "Digital Spends": pd.Series([70.0, 70.0, 70.0], index=PERIODS),
        "Organic Performance": pd.Series([60.0, 62.0, 64.0], index=PERIODS),
        "Socialwatch": pd.Series([90.0, 88.0, 86.0], index=PERIODS),
    }


WEIGHTS = {"Marketplace": 0.4, "Digital Spends": 0.3, "Organic Performance": 0.2, "Socialwatch": 0.1}


def test_gap_is_direct_minus_weighted_section_rebuild():
    sections = _sections()
    rebuilt = sum(WEIGHTS[s] * sections[s] for s in WEIGHTS)
    dc = rebuilt + pd.Series([0.0, 1.5, -2.0], index=PERIODS)
    gap = coherence_gap(dc, sections, WEIGHTS)
    assert np.allclose(gap.to_numpy(), [0.0, 1.5, -2.0])
    assert gap.name == "coherence_gap"


def test_missing_section_forecast_renormalises_the_weights():
    sections = _sections()
    sections["Socialwatch"].iloc[2] = np.nan
    dc = pd.Series([75.0, 75.0, 75.0], index=PERIODS)
    gap = coherence_gap(dc, sections, WEIGHTS)
    expected_last = 75.0 - (0.4 * 82 + 0.3 * 70 + 0.2 * 64) / 0.9
    assert np.isclose(gap.iloc[2], expected_last)
    assert np.isclose(gap.iloc[0], 75.0 - (0.4 * 80 + 0.3 * 70 + 0.2 * 60 + 0.1 * 90))
