"""Index robustness (SPEC §9): how much the DC ranking depends on weights and aggregation choices.

Pure computation per (project, period). The Monte Carlo recomputes the SPEC §4 roll-up for all
weight draws at once as (draw, brand, metric) arrays multiplied by one-hot metric->platform and
platform->section matrices, instead of calling `compute_dc_scores` once per draw; a test checks
that draw-free weights reproduce `compute_dc_scores` exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from dc_pipeline.domain.scoring import (
    KEYS,
    RANK_DECIMALS,
    TIER_HIGH,
    TIER_MEDIUM,
    DcScores,
    active_metric_table,
    compute_dc_scores,
    directed_scores,
    rank_within,
    tiers,
)
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline.domain.source_tables import SECTIONS

MIN_CORRELATION_N = 5
DRAW_BATCH = 200  # bounds memory: a batch holds (200, brands, metrics) floats

MONTE_CARLO_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "dc_score",
    "tier",
    "nominal_rank",
    "median_rank",
    "rank_lo",
    "rank_hi",
    "rank_band_width",
    "dc_lo",
    "dc_hi",
    "mean_abs_rank_shift",
    "p_tier_change",
    "tier_uncertain",
    "rank_uncertain",
    "n_draws",
)
GEOMETRIC_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "dc_score",
    "nominal_rank",
    "geometric_mean",
    "geometric_rank",
    "rank_shift",
)
LOSO_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "dropped_section",
    "dc_score",
    "dc_without",
    "nominal_rank",
    "rank_without",
    "delta_rank",
)
DRIVER_COLUMNS: tuple[str, ...] = (
    "project_id",
    "period",
    "ranking_driver",
    "mean_abs_delta_rank",
    "status",
    "reason",
)
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


# ---------------------------------------------------------------- Monte Carlo weights


@dataclass(frozen=True)
class ScoreMatrix:
    """One (project, period): directed scores by brand x active metric and the metric hierarchy."""

    project_id: int
    period: pd.Timestamp
    brand_ids: np.ndarray  # [B]
    scores: np.ndarray  # [B, M], NaN where a brand has no value
    weights: np.ndarray  # [M] nominal metric weights
    metric_platform: np.ndarray  # [M, P] one-hot
    platform_section: np.ndarray  # [P, K] one-hot


def score_matrices(values: pd.DataFrame, metrics: pd.DataFrame, config: ScoringConfig) -> list[ScoreMatrix]:
    """Pivot validated values into one ScoreMatrix per (project, period) with any active value."""
    active = active_metric_table(metrics, config)
    rows = values.merge(active, on=["project_id", "metric_id"], how="inner")
    rows["directed_score"] = directed_scores(
        rows["normalized_value"].to_numpy(), rows["metric_type"].to_numpy(), config.normalized_is_directed
    )
    out = []
    for (project_id, period), group in rows.groupby(["project_id", "period"], sort=True):
        defs = active[active["project_id"] == project_id].sort_values(["section_name", "platform_name", "metric_id"])
        table = group.pivot(index="brand_id", columns="metric_id", values="directed_score")
        table = table.reindex(columns=defs["metric_id"].to_numpy())
        platform = defs.groupby(["section_name", "platform_name"], sort=True).ngroup().to_numpy()
        section_of_platform = pd.factorize(
            defs.drop_duplicates(["section_name", "platform_name"])["section_name"], sort=True
        )[0]
        out.append(
            ScoreMatrix(
                project_id=int(project_id),
                period=pd.Timestamp(period),
                brand_ids=table.index.to_numpy(),
                scores=table.to_numpy(dtype=float),
                weights=defs["weight"].to_numpy(dtype=float),
                metric_platform=np.eye(platform.max() + 1)[platform],
                platform_section=np.eye(section_of_platform.max() + 1)[section_of_platform],
            )
        )
    return out


def draw_dc_scores(matrix: ScoreMatrix, weights: np.ndarray, config: ScoringConfig) -> np.ndarray:
    """DC [D, B] for weight draws [D, M], following SPEC §4 (null DC as NaN)."""
    avail = np.isfinite(matrix.scores)
    s0 = np.where(avail, matrix.scores, 0.0)
    if config.score_method == "unweighted_mean":
        n = avail.sum(axis=1)
        dc = np.where(n > 0, s0.sum(axis=1) / np.maximum(n, 1), np.nan)
        coverage = n / matrix.scores.shape[1]
        dc = np.where(coverage >= config.min_weight_coverage, dc, np.nan)
        return np.broadcast_to(dc, (len(weights), len(dc))).copy()
    aw = avail[None, :, :] * weights[:, None, :]  # [D, B, M]
    p_den = aw @ matrix.metric_platform
    p_def = p_den > 0
    p_score = np.where(p_def, ((aw * s0[None]) @ matrix.metric_platform) / np.where(p_def, p_den, 1.0), 0.0)
    w_platform = weights @ matrix.metric_platform  # nominal W_p per draw [D, P]
    p_w = np.where(p_def, w_platform[:, None, :], 0.0)
    s_den = p_w @ matrix.platform_section
    s_def = s_den > 0
    s_score = np.where(s_def, ((p_w * p_score) @ matrix.platform_section) / np.where(s_def, s_den, 1.0), 0.0)
    if config.section_weighting == "equal":
        w_section = np.ones((len(weights), matrix.platform_section.shape[1]))
    else:
        w_section = w_platform @ matrix.platform_section
    s_w = np.where(s_def, w_section[:, None, :], 0.0)
    dc_den = s_w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dc = np.where(dc_den > 0, (s_w * s_score).sum(axis=-1) / dc_den, np.nan)
        coverage = aw.sum(axis=-1) / weights.sum(axis=-1)[:, None]
    return np.where(np.isfinite(coverage) & (coverage >= config.min_weight_coverage), dc, np.nan)


def ranks_per_draw(dc: np.ndarray) -> np.ndarray:
    """Descending 'min' ranks along the brand axis of dc [D, B]; NaN for a null DC."""
    rounded = np.round(dc, RANK_DECIMALS)
    higher = (rounded[:, None, :] > rounded[:, :, None]).sum(axis=-1)  # brands strictly ahead
    return np.where(np.isfinite(dc), 1.0 + higher, np.nan)


def _tier_codes(dc: np.ndarray) -> np.ndarray:
    """0 null, 1 low, 2 medium, 3 high: comparable across draws."""
    return np.select([dc >= TIER_HIGH, dc >= TIER_MEDIUM, dc < TIER_MEDIUM], [3, 2, 1], 0)


def _weight_draws(matrix: ScoreMatrix, n_draws: int, weight_noise: float, seed: int) -> np.ndarray:
    """Nominal weights times independent U(1-noise, 1+noise), seeded per (project, period)."""
    rng = np.random.default_rng([seed, matrix.project_id, matrix.period.toordinal()])
    factors = rng.uniform(1.0 - weight_noise, 1.0 + weight_noise, size=(n_draws, len(matrix.weights)))
    return matrix.weights[None, :] * factors


def _monte_carlo_one(
    matrix: ScoreMatrix,
    config: ScoringConfig,
    n_draws: int,
    weight_noise: float,
    seed: int,
    confidence: tuple[float, float],
) -> pd.DataFrame:
    nominal_dc = draw_dc_scores(matrix, matrix.weights[None, :], config)
    nominal_rank = ranks_per_draw(nominal_dc)[0]
    draws = _weight_draws(matrix, n_draws, weight_noise, seed)
    dc = np.concatenate(
        [draw_dc_scores(matrix, draws[i : i + DRAW_BATCH], config) for i in range(0, n_draws, DRAW_BATCH)]
    )
    rank = ranks_per_draw(dc)
    with warnings.catch_warnings():  # all-NaN columns (always-null brands) give NaN, as intended
        warnings.simplefilter("ignore", RuntimeWarning)
        rank_lo, rank_hi = np.nanpercentile(rank, confidence, axis=0, method="inverted_cdf")
        dc_lo, dc_hi = np.nanpercentile(dc, confidence, axis=0)
        median_rank = np.nanmedian(rank, axis=0)
        shift = np.nanmean(np.abs(rank - nominal_rank[None, :]), axis=0)
    nominal_tier = _tier_codes(nominal_dc[0])
    frame = pd.DataFrame(
        {
            "project_id": matrix.project_id,
            "brand_id": matrix.brand_ids,
            "period": matrix.period,
            "dc_score": nominal_dc[0],
            "tier": pd.Series(tiers(nominal_dc[0]), dtype=object),
            "nominal_rank": pd.array(np.where(np.isfinite(nominal_rank), nominal_rank, np.nan), dtype="Int64"),
            "median_rank": median_rank,
            "rank_lo": rank_lo,
            "rank_hi": rank_hi,
            "rank_band_width": rank_hi - rank_lo,
            "dc_lo": dc_lo,
            "dc_hi": dc_hi,
            "mean_abs_rank_shift": shift,
            "p_tier_change": (_tier_codes(dc) != nominal_tier[None, :]).mean(axis=0),
        }
    )
    crosses = [(frame["dc_lo"] < t) & (frame["dc_hi"] >= t) for t in (TIER_MEDIUM, TIER_HIGH)]
    frame["tier_uncertain"] = crosses[0] | crosses[1]
    frame["rank_uncertain"] = frame["rank_band_width"] >= 2
    frame["n_draws"] = n_draws
    return frame


def monte_carlo_weight_ranks(
    values: pd.DataFrame,
    metrics: pd.DataFrame,
    config: ScoringConfig = ScoringConfig(),
    n_draws: int = 1000,
    weight_noise: float = 0.25,
    seed: int = 42,
    confidence: tuple[float, float] = (5, 95),
) -> pd.DataFrame:
    """Rank and DC bands per brand-period under independent U(1±noise) metric weight multipliers.

    rank_band_width = rank_hi - rank_lo (0 when the rank never moves inside the band);
    rank_uncertain when it is >= 2; tier_uncertain when [dc_lo, dc_hi] crosses 60 or 80.
    """
    frames = [
        _monte_carlo_one(m, config, n_draws, weight_noise, seed, confidence)
        for m in score_matrices(values, metrics, config)
    ]
    if not frames:
        return pd.DataFrame(columns=list(MONTE_CARLO_COLUMNS))
    return pd.concat(frames, ignore_index=True).loc[:, list(MONTE_CARLO_COLUMNS)]


# ---------------------------------------------------------------- aggregation alternative


def geometric_mean_ranks(scores: DcScores) -> pd.DataFrame:
    """Section scores floored at 1, combined by a geometric mean weighted like the DC.

    The weights are the sections' effective weights (sum of e_m; equal when sections are
    equally weighted), so the rank shift isolates the aggregation rule from the weighting.
    rank_shift = geometric_rank - nominal_rank (positive: the brand drops).
    """
    sections = scores.sections.dropna(subset=["effective_weight"])
    log_score = np.log(np.maximum(sections["section_score"].to_numpy(dtype=float), 1.0))
    weighted = sections.assign(weighted_log=log_score * sections["effective_weight"])
    sums = weighted.groupby(list(KEYS))[["weighted_log", "effective_weight"]].sum().reset_index()
    sums["geometric_mean"] = np.exp(sums["weighted_log"] / sums["effective_weight"])
    frame = scores.brands.loc[:, [*KEYS, "dc_score", "rank"]].rename(columns={"rank": "nominal_rank"})
    frame = frame.merge(sums[[*KEYS, "geometric_mean"]], on=list(KEYS), how="left")
    frame["geometric_rank"] = rank_within(frame, "geometric_mean", ["project_id", "period"])
    frame["rank_shift"] = frame["geometric_rank"] - frame["nominal_rank"]
    return frame.loc[:, list(GEOMETRIC_COLUMNS)]


# ---------------------------------------------------------------- leave one section out


def leave_one_section_out(
    values: pd.DataFrame, metrics: pd.DataFrame, config: ScoringConfig = ScoringConfig()
) -> pd.DataFrame:
    """Δrank per brand when each section's metrics are dropped and the DC renormalised.

    One `compute_dc_scores` call per section name covers every project at once; the dropped
    section's metrics are made inactive so the coverage denominator excludes them too.
    delta_rank = rank_without - nominal_rank (positive: the brand drops without the section).
    """
    nominal = compute_dc_scores(values, metrics, config).brands
    nominal = nominal.loc[nominal["rank"].notna(), [*KEYS, "dc_score", "rank"]]
    is_active = metrics["is_active"].astype("boolean").fillna(False).astype(bool)
    present = metrics.loc[is_active, ["project_id", "section_name"]].drop_duplicates()
    order = [s for s in SECTIONS if s in set(present["section_name"])]
    order += sorted(set(present["section_name"]) - set(SECTIONS))
    frames = []
    for section in order:  # at most a handful of section names
        reduced = metrics.assign(is_active=is_active & (metrics["section_name"] != section))
        without = compute_dc_scores(values, reduced, config).brands[[*KEYS, "dc_score", "rank"]]
        frame = nominal.merge(without, on=list(KEYS), how="left", suffixes=("", "_without"))
        frame = frame.merge(present[present["section_name"] == section][["project_id"]], on="project_id")
        frame["dropped_section"] = section
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(LOSO_COLUMNS))
    out = pd.concat(frames, ignore_index=True).rename(
        columns={"rank": "nominal_rank", "dc_score_without": "dc_without"}
    )
    out["rank_without"] = out["rank_without"].astype("Int64")
    out["delta_rank"] = out["rank_without"] - out["nominal_rank"]
    return out.loc[:, list(LOSO_COLUMNS)]


def section_rank_sensitivity(loso: pd.DataFrame) -> pd.DataFrame:
    """Mean |Δrank| per (project, period, dropped section) over brands ranked both ways."""
    loso = loso.assign(abs_delta=loso["delta_rank"].astype("Float64").abs().astype(float))
    return (
        loso.groupby(["project_id", "period", "dropped_section"], sort=True)
        .agg(mean_abs_delta_rank=("abs_delta", "mean"), n_brands=("abs_delta", "count"))
        .reset_index()
    )


def ranking_driver(loso: pd.DataFrame) -> pd.DataFrame:
    """The section whose removal moves ranks most (largest mean |Δrank|) per (project, period).

    Ties go to the first section in SPEC order; when no removal changes any rank, or fewer than
    two brands are ranked, there is no driver and the reason says why.
    """
    sensitivity = section_rank_sensitivity(loso)
    order = {name: i for i, name in enumerate(SECTIONS)}
    sensitivity["order"] = sensitivity["dropped_section"].map(order).fillna(len(order))
    rows = []
    for (project_id, period), group in sensitivity.groupby(["project_id", "period"], sort=True):
        group = group.sort_values(["mean_abs_delta_rank", "order"], ascending=[False, True])
        best = group.iloc[0]
        n_brands = int(group["n_brands"].max())
        if n_brands < 2:
            status, driver, reason = "insufficient_data", None, f"{n_brands} ranked brands, 2 needed"
        elif not best["mean_abs_delta_rank"] > 0:
            status, driver, reason = "ok", None, f"dropping any of {len(group)} sections leaves every rank unchanged"
        else:
            status, driver, reason = (
                "ok",
                best["dropped_section"],
                (
                    f"dropping {best['dropped_section']} moves ranks by {best['mean_abs_delta_rank']:.2f} on average "
                    f"over {n_brands} brands"
                ),
            )
        rows.append(
            {
                "project_id": project_id,
                "period": period,
                "ranking_driver": driver,
                "mean_abs_delta_rank": float(best["mean_abs_delta_rank"]),
                "status": status,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))


# ---------------------------------------------------------------- effective vs nominal weights


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
