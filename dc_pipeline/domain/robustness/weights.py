"""Effective vs nominal weights and correlation-based section importance (SPEC §9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from dc_pipeline.domain.scoring import KEYS, DcScores, active_metric_table
from dc_pipeline.domain.settings import ScoringConfig

MIN_CORRELATION_N = 5

WEIGHT_COLUMNS: tuple[str, ...] = (
    "project_id",
    "period",
    "level",
    "section_name",
    "platform_name",
    "metric_id",
    "metric_name",
    "nominal_weight",
    "effective_weight_mean",
    "effective_weight_min",
    "effective_weight_max",
    "weight_shift",
    "n_brands",
)
CORRELATION_COLUMNS: tuple[str, ...] = (
    "project_id",
    "section_name",
    "n",
    "pearson_r",
    "p_value",
    "status",
    "reason",
)


def nominal_metric_weights(metrics: pd.DataFrame, config: ScoringConfig = ScoringConfig()) -> pd.DataFrame:
    """e_m with every active metric available: the weights the index is designed to have."""
    active = active_metric_table(metrics, config)
    if config.score_method == "unweighted_mean":
        active["nominal_weight"] = 1.0 / active.groupby("project_id")["metric_id"].transform("count")
        return active
    w = active["weight"]
    platform_defined = active["platform_weight"] > 0
    platform_w = active["platform_weight"].where(platform_defined, 0.0)
    # each platform counted once in its section's sum of W_p
    first = ~active.duplicated(["project_id", "section_name", "platform_name"])
    section_den = (platform_w * first).groupby([active["project_id"], active["section_name"]]).transform("sum")
    section_w = active["section_weight"].where(section_den > 0, 0.0)
    first_section = ~active.duplicated(["project_id", "section_name"])
    dc_den = (section_w * first_section).groupby(active["project_id"]).transform("sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        e = (section_w / dc_den) * (platform_w / section_den) * (w / active["platform_weight"])
    active["nominal_weight"] = e.where(platform_defined, 0.0).fillna(0.0)
    return active


def _level_summary(per_brand: pd.DataFrame, items: list[str], n_scored: pd.Series) -> pd.DataFrame:
    """Mean / min / max of an effective weight over scored brands; a missing item counts as 0."""
    by = ["project_id", "period", *items]
    summary = per_brand.groupby(by, dropna=False)["effective_weight"].agg(["sum", "min", "max", "count"]).reset_index()
    n = pd.MultiIndex.from_frame(summary[["project_id", "period"]]).map(n_scored).to_numpy(dtype=float)
    summary["effective_weight_mean"] = summary["sum"] / n
    absent = summary["count"] < n
    summary["effective_weight_min"] = summary["min"].where(~absent, 0.0)
    summary["effective_weight_max"] = summary["max"]  # e >= 0, so an absent brand's 0 never raises it
    summary["n_brands"] = n.astype(int)
    return summary.drop(columns=["sum", "min", "max", "count"])


def effective_vs_nominal_weights(
    scores: DcScores, metrics: pd.DataFrame, config: ScoringConfig = ScoringConfig()
) -> pd.DataFrame:
    """Nominal normalised vs mean effective weights per (project, period) at three levels."""
    nominal = nominal_metric_weights(metrics, config)
    scored = scores.metrics.dropna(subset=["effective_weight"])
    n_scored = scores.brands[scores.brands["dc_score"].notna()].groupby(["project_id", "period"]).size()
    periods = n_scored.reset_index()[["project_id", "period"]]
    levels = {
        "metric": ["section_name", "platform_name", "metric_id", "metric_name"],
        "platform": ["section_name", "platform_name"],
        "section": ["section_name"],
    }
    frames = []
    for level, items in levels.items():
        per_brand = scored.groupby([*KEYS, *items], dropna=False)["effective_weight"].sum().reset_index()
        effective = _level_summary(per_brand, items, n_scored)
        designed = nominal.groupby(["project_id", *items], dropna=False)["nominal_weight"].sum().reset_index()
        frame = periods.merge(designed, on="project_id").merge(
            effective, on=["project_id", "period", *items], how="left"
        )
        frame["n_brands"] = pd.MultiIndex.from_frame(frame[["project_id", "period"]]).map(n_scored).to_numpy()
        for column in ("effective_weight_mean", "effective_weight_min", "effective_weight_max"):
            frame[column] = frame[column].fillna(0.0)  # designed but never available
        frame["level"] = level
        frames.append(frame)
    if not frames or periods.empty:
        return pd.DataFrame(columns=list(WEIGHT_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["metric_id"] = out["metric_id"].astype("Int64")
    out["weight_shift"] = out["effective_weight_mean"] - out["nominal_weight"]
    return out.reindex(columns=list(WEIGHT_COLUMNS))


# ---------------------------------------------------------------- correlation-based importance


def section_dc_correlations(scores: DcScores, min_n: int = MIN_CORRELATION_N) -> pd.DataFrame:
    """Pearson r of each section score with the DC over a project's scored brand-periods."""
    dc = scores.brands.loc[scores.brands["dc_score"].notna(), [*KEYS, "dc_score"]]
    pairs = scores.sections.merge(dc, on=list(KEYS), how="inner")
    rows = []
    for (project_id, section), group in pairs.groupby(["project_id", "section_name"], sort=True):
        n = len(group)
        row = {"project_id": project_id, "section_name": section, "n": n, "pearson_r": np.nan, "p_value": np.nan}
        if n < min_n:
            row.update(status="insufficient_data", reason=f"insufficient data: {n} brand-periods, {min_n} needed")
        elif group["section_score"].nunique() < 2 or group["dc_score"].nunique() < 2:
            row.update(
                status="insufficient_data", reason=f"no variation: section or DC score constant over {n} brand-periods"
            )
        else:
            result = stats.pearsonr(group["section_score"], group["dc_score"])
            row.update(pearson_r=float(result.statistic), p_value=float(result.pvalue), status="ok", reason=None)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))
