"""Cross-brand comparison (SPEC §8): per period, each brand's standing on DC and on every section, the
leader of each, and with at least MIN_COMMON_PERIODS common periods the pairwise DC differences tested by a
paired t-test and a Wilcoxon signed-rank test, each Holm-corrected over the project's brand pairs
(blocks/multiplicity.holm_adjusted: statsmodels' multipletests numbers without its gc.collect per call).

The periods of one brand pair are not independent: AR(1) noise with phi 0.5 makes the plain paired t and
Wilcoxon call a pair different about a quarter of the time when it is not (by simulation, 12-36 periods). So
both statistics are deflated by the AR(1) variance ratio of the differences (blocks/trend.variance_ratios,
as in the Mann-Kendall test): the t-test uses t / sqrt(ratio) on n / ratio − 1 degrees of freedom, the
Wilcoxon its exact p turned into a normal score and divided by sqrt(ratio). That brings the false alarms to
about 10 % at 12 periods and 7 % at 36 (the autocorrelation is estimated from the short series itself);
Holm over the pairs and requiring both tests keep a claim conservative. The plain p values are kept
(`*_p_naive`). A difference is called significant only when both Holm-adjusted p values are below alpha."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from dc_pipeline.domain.portfolio.cohort import cohort_standing
from dc_pipeline.domain.portfolio.series import pair_groups
from dc_pipeline.domain.reports.blocks.multiplicity import holm_adjusted
from dc_pipeline.domain.reports.blocks.trend import variance_ratios
from dc_pipeline.domain.source_tables import SECTIONS

MEASURES = ("dc", *SECTIONS)
MIN_COMMON_PERIODS = 4
COMPARISON_COLUMNS = [
    "period",
    "brand_id",
    "measure",
    "value",
    "rank",
    "n_brands",
    "z_score",
    "percentile",
    "gap_to_leader",
    "is_leader",
]
PAIRWISE_COLUMNS = [
    "brand_a",
    "brand_b",
    "n_common_periods",
    "mean_difference",
    "sd_difference",
    "variance_ratio",
    "t_statistic",
    "t_p_naive",
    "t_p",
    "t_p_holm",
    "wilcoxon_statistic",
    "wilcoxon_p_naive",
    "wilcoxon_p",
    "wilcoxon_p_holm",
    "significant",
    "status",
    "reason",
]


def cross_brand_comparison(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per (period, brand, measure) of the panel (brand_id, period, dc and the four sections)."""
    long = panel.melt(id_vars=["period", "brand_id"], value_vars=list(MEASURES), var_name="measure").dropna()
    if long.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    standing = cohort_standing(long["value"], [long["period"], long["measure"]])
    out = long.loc[standing.index, ["period", "brand_id", "measure"]].join(standing)
    out["is_leader"] = out["rank"] == 1
    return out.loc[:, COMPARISON_COLUMNS].sort_values(["period", "measure", "rank", "brand_id"], ignore_index=True)


def paired_tests(d: np.ndarray) -> dict[str, np.ndarray]:
    """Both paired tests for every row of d (pairs x common periods), plain and AR(1)-corrected."""
    n = d.shape[1]
    mean, sd = d.mean(axis=1), d.std(axis=1, ddof=1)
    ratio = variance_ratios(d)
    t = mean / (sd / np.sqrt(n))
    df = np.maximum(1.0, n / ratio - 1)
    wilcoxon = stats.wilcoxon(d, axis=1)
    z = stats.norm.isf(np.asarray(wilcoxon.pvalue) / 2)
    return {
        "variance_ratio": ratio,
        "t_statistic": t,
        "t_p_naive": 2 * stats.t.sf(np.abs(t), n - 1),
        "t_p": 2 * stats.t.sf(np.abs(t) / np.sqrt(ratio), df),
        "wilcoxon_statistic": np.asarray(wilcoxon.statistic),
        "wilcoxon_p_naive": np.asarray(wilcoxon.pvalue),
        "wilcoxon_p": 2 * stats.norm.sf(z / np.sqrt(ratio)),
    }


def pairwise_dc_tests(panel: pd.DataFrame, alpha: float, min_periods: int = MIN_COMMON_PERIODS) -> pd.DataFrame:
    """Every brand pair (brand_a < brand_b): DC_a − DC_b over their common periods, tested when there are at
    least `min_periods` with some variation; Holm's correction runs over the tested pairs, per test."""
    wide = panel.pivot_table(index="period", columns="brand_id", values="dc", aggfunc="first")
    brands, values = np.array(wide.columns, dtype=int), wide.to_numpy(dtype=float)
    frames = []
    for ia, ib, mask in pair_groups(values):
        d = (values[mask][:, ia] - values[mask][:, ib]).T
        n = int(mask.sum())
        out = pd.DataFrame(
            {
                "brand_a": brands[ia],
                "brand_b": brands[ib],
                "n_common_periods": n,
                "mean_difference": d.mean(axis=1) if n else np.nan,
                "sd_difference": d.std(axis=1, ddof=1) if n >= 2 else np.nan,
            }
        )
        varied = np.ptp(d, axis=1) > 1e-9 if n else np.zeros(len(ia), dtype=bool)
        out["status"] = np.where((n >= min_periods) & varied, "ok", "insufficient_data")
        out["reason"] = None
        if n < min_periods:
            out["reason"] = f"insufficient history: {n} common periods, {min_periods} needed"
        else:
            out.loc[~varied, "reason"] = f"no variation: the DC difference is the same in all {n} common periods"
            if varied.any():
                for name, value in paired_tests(d[varied]).items():
                    out.loc[varied, name] = value
        frames.append(out)
    out = (
        pd.concat(frames, ignore_index=True).reindex(columns=PAIRWISE_COLUMNS)
        if frames
        else pd.DataFrame(columns=PAIRWISE_COLUMNS)
    )
    out = out.sort_values(["brand_a", "brand_b"], ignore_index=True)
    tested = out["status"] == "ok"
    for test in ("t", "wilcoxon"):
        out[f"{test}_p_holm"] = np.nan
        if tested.any():
            out.loc[tested, f"{test}_p_holm"] = holm_adjusted(out.loc[tested, f"{test}_p"])
    out["significant"] = tested & (out["t_p_holm"] < alpha) & (out["wilcoxon_p_holm"] < alpha)
    return out.loc[:, PAIRWISE_COLUMNS]
