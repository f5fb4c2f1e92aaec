"""Cross-brand comparison (SPEC §8): per period, each brand's standing on DC and on every section, the
leader of each, and with at least MIN_COMMON_PERIODS common periods the pairwise DC differences tested by a
paired t-test and a Wilcoxon signed-rank test, each Holm-corrected over the project's brand pairs.

Both tests treat the common periods as independent pairs of observations (as SPEC §8 prescribes); a
difference is called significant only when both Holm-adjusted p values are below alpha."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from dc_pipeline.domain.portfolio.cohort import cohort_standing
from dc_pipeline.domain.source_tables import SECTIONS

MEASURES = ("dc", *SECTIONS)
MIN_COMMON_PERIODS = 4
COMPARISON_COLUMNS = ["period", "brand_id", "measure", "value", "rank", "n_brands", "z_score", "percentile",
                      "gap_to_leader", "is_leader"]  # fmt: skip
PAIRWISE_COLUMNS = ["brand_a", "brand_b", "n_common_periods", "mean_difference", "sd_difference", "t_statistic",
                    "t_p", "t_p_holm", "wilcoxon_statistic", "wilcoxon_p", "wilcoxon_p_holm", "significant",
                    "status", "reason"]  # fmt: skip


def cross_brand_comparison(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per (period, brand, measure) of the panel (brand_id, period, dc and the four sections)."""
    long = panel.melt(id_vars=["period", "brand_id"], value_vars=list(MEASURES), var_name="measure").dropna()
    if long.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    standing = cohort_standing(long["value"], [long["period"], long["measure"]])
    out = long.loc[standing.index, ["period", "brand_id", "measure"]].join(standing)
    out["is_leader"] = out["rank"] == 1
    return out.loc[:, COMPARISON_COLUMNS].sort_values(["period", "measure", "rank", "brand_id"], ignore_index=True)


def _pair_test(a: np.ndarray, b: np.ndarray) -> dict:
    t = stats.ttest_rel(a, b)
    w = stats.wilcoxon(a, b)
    return {"t_statistic": float(t.statistic), "t_p": float(t.pvalue), "wilcoxon_statistic": float(w.statistic),
            "wilcoxon_p": float(w.pvalue)}  # fmt: skip


def pairwise_dc_tests(panel: pd.DataFrame, alpha: float, min_periods: int = MIN_COMMON_PERIODS) -> pd.DataFrame:
    """Every brand pair (brand_a < brand_b): DC_a − DC_b over their common periods, tested when there are at
    least `min_periods`; Holm's correction runs over the pairs that were tested, separately per test."""
    wide = panel.pivot_table(index="period", columns="brand_id", values="dc", aggfunc="first")
    rows = []
    for a, b in combinations(sorted(wide.columns), 2):
        common = wide[[a, b]].dropna()
        d = (common[a] - common[b]).to_numpy(dtype=float)
        row = {"brand_a": int(a), "brand_b": int(b), "n_common_periods": int(d.size),
               "mean_difference": float(d.mean()) if d.size else np.nan,
               "sd_difference": float(d.std(ddof=1)) if d.size >= 2 else np.nan}  # fmt: skip
        if d.size < min_periods:
            row.update(status="insufficient_data",
                       reason=f"insufficient history: {d.size} common periods, {min_periods} needed")  # fmt: skip
        elif np.ptp(d) == 0:
            reason = f"no variation: the DC difference is the same in all {d.size} common periods"
            row.update(status="insufficient_data", reason=reason)
        else:
            row.update(status="ok", reason=None, **_pair_test(common[a].to_numpy(float), common[b].to_numpy(float)))
        rows.append(row)
    out = pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)
    tested = out["status"] == "ok"
    for test in ("t", "wilcoxon"):
        out[f"{test}_p_holm"] = np.nan
        if tested.any():
            out.loc[tested, f"{test}_p_holm"] = multipletests(out.loc[tested, f"{test}_p"], method="holm")[1]
    out["significant"] = tested & (out["t_p_holm"] < alpha) & (out["wilcoxon_p_holm"] < alpha)
    return out.loc[:, PAIRWISE_COLUMNS]
