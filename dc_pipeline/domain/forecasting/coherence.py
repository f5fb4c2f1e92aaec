"""Coherence of the DC forecast with the section forecasts (SPEC §6b "Coherence").

DC is exactly the effective-weight sum of the section scores (SPEC §4), so the DC rebuilt from
section forecasts with the current effective weights should match the direct DC forecast; the
gap shows how far the separately fitted models disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def coherence_gap(
    dc_forecast_median: pd.Series,
    section_forecast_medians: dict[str, pd.Series],
    section_effective_weights: dict[str, float],
) -> pd.Series:
    """Direct DC forecast minus the DC rebuilt from section forecasts, per period.

    Weights are renormalised over the sections that have a forecast at a period (a missing
    section's weight goes to the others, as in scoring); periods with no weighted section
    forecast are NaN.
    """
    weights = {s: float(w) for s, w in section_effective_weights.items() if w and w > 0}
    if not weights:
        return pd.Series(np.nan, index=dc_forecast_median.index, name="coherence_gap")
    sections = pd.DataFrame({s: section_forecast_medians[s] for s in weights if s in section_forecast_medians}).reindex(
        dc_forecast_median.index
    )
    w = pd.Series(weights).reindex(sections.columns)
    present = sections.notna()
    weight_sum = present.mul(w, axis=1).sum(axis=1)
    rebuilt = sections.fillna(0.0).mul(w, axis=1).sum(axis=1) / weight_sum.where(weight_sum > 0)
    return (dc_forecast_median - rebuilt).rename("coherence_gap")
