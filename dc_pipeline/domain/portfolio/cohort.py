"""Where a brand stands among the brands of one cohort (a project's brands in one period): rank, z-score,
percentile, gap to the leader, and the p75 / p25 strength and weakness labels (SPEC §7 item 14, §8).

One definition for every place that compares a brand with its cohort: the portfolio comparison, the
complementarity of a pair and the competitive-advantage report."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

STRONG_Q, WEAK_Q = 75.0, 25.0


def cohort_standing(values: pd.Series) -> pd.DataFrame:
    """Per index entry (a brand) of the finite `values`: rank (1 = highest, ties share the lowest rank),
    z-score (sample sd; None for fewer than 2 brands or no spread), percentile (share of the cohort below
    plus half of the ties, as scipy's percentileofscore kind='mean') and gap to the leader."""
    v = values.astype(float).dropna()
    n = int(v.size)
    if n == 0:
        return pd.DataFrame(columns=["value", "rank", "n_brands", "z_score", "percentile", "gap_to_leader"])
    sd = float(v.std(ddof=1)) if n >= 2 else 0.0
    average_rank = stats.rankdata(v.to_numpy())  # ascending, ties averaged
    return pd.DataFrame(
        {
            "value": v,
            "rank": v.rank(ascending=False, method="min").astype(int),
            "n_brands": n,
            "z_score": (v - v.mean()) / sd if sd > 0 else np.nan,
            "percentile": 100.0 * (average_rank - 0.5) / n,
            "gap_to_leader": v.max() - v,
        },
        index=v.index,
    )


def strength_weakness(values: pd.Series) -> pd.Series:
    """'strength' at or above the cohort's 75th percentile, 'weakness' at or below its 25th (numpy's
    linear percentiles), else 'neutral'; None where the value is missing. With one brand nothing is
    labelled: a brand is not strong or weak against itself."""
    v = values.astype(float)
    finite = v.dropna()
    labels = pd.Series(None, index=v.index, dtype=object)
    if finite.size < 2 or np.ptp(finite.to_numpy()) == 0:
        labels[finite.index] = "neutral"
        return labels
    high, low = np.percentile(finite.to_numpy(), [STRONG_Q, WEAK_Q])
    labels[finite.index] = np.where(finite >= high, "strength", np.where(finite <= low, "weakness", "neutral"))
    return labels


def cohort_thresholds(values: pd.Series) -> tuple[float, float] | None:
    """(p75, p25) of the finite values, None with fewer than 2."""
    finite = values.astype(float).dropna().to_numpy()
    if finite.size < 2:
        return None
    high, low = np.percentile(finite, [STRONG_Q, WEAK_Q])
    return float(high), float(low)
