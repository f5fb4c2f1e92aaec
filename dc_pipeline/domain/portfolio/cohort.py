"""Where a brand stands among the brands of one cohort (a project's brands in one period): rank, z-score,
percentile, gap to the leader, and the p75 / p25 strength and weakness labels (SPEC §7 item 14, §8).

One definition for every place that compares a brand with its cohort: the portfolio comparison, the
complementarity of a pair and the competitive-advantage report."""

from __future__ import annotations

import numpy as np
import pandas as pd

STRONG_Q, WEAK_Q = 75.0, 25.0


def cohort_standing(values: pd.Series, groups=None) -> pd.DataFrame:
    """Per finite value (a brand in its cohort; `groups` names each value's cohort, one cohort when None): rank
    (1 = highest, ties share the best rank), z-score (sample sd; NaN for a cohort of one or without spread),
    percentile (share of the cohort below plus half of the ties, as scipy's percentileofscore kind='mean') and
    the gap to the cohort's leader. `groups`: a Series, or a list of Series, aligned with `values` (pandas
    groupby keys). Indexed like the finite values."""
    v = values.astype(float).dropna()
    keys = pd.Series(0, index=v.index) if groups is None else groups
    grouped = v.groupby(keys)
    n = grouped.transform("count")
    sd = grouped.transform("std")
    return pd.DataFrame(
        {
            "value": v,
            "rank": grouped.rank(ascending=False, method="min").astype(int),
            "n_brands": n.astype(int),
            "z_score": ((v - grouped.transform("mean")) / sd).where(sd > 0),
            "percentile": 100.0 * (grouped.rank(method="average") - 0.5) / n,
            "gap_to_leader": grouped.transform("max") - v,
        },
        index=v.index,
    )


def cohort_labels(values: pd.Series, groups) -> pd.Series:
    """'strength' at or above its cohort's 75th percentile, 'weakness' at or below its 25th (linear
    interpolation, as numpy's percentile), else 'neutral'; None where the value is missing. `groups` names the
    cohort of each value (groupby keys aligned with `values`, e.g. [period, section]). A cohort of one brand,
    or without spread, is all neutral: a brand is not strong or weak against itself."""
    v = values.astype(float)
    grouped = v.groupby(groups)
    high, low = grouped.transform("quantile", STRONG_Q / 100), grouped.transform("quantile", WEAK_Q / 100)
    spread = grouped.transform("max") - grouped.transform("min")
    labelled = (grouped.transform("count") >= 2) & (spread > 0)
    labels = np.where(labelled & (v >= high), "strength", np.where(labelled & (v <= low), "weakness", "neutral"))
    return pd.Series(labels, index=v.index, dtype=object).where(v.notna(), None)


def strength_weakness(values: pd.Series) -> pd.Series:
    """cohort_labels of one cohort."""
    return cohort_labels(values, pd.Series(0, index=values.index))
