"""Monte Carlo weights (SPEC §9): rank and DC bands per brand-period when every metric weight is
multiplied by an independent U(1 - noise, 1 + noise).

The draws recompute the SPEC §4 roll-up for all weight draws at once as (draw, brand, metric)
arrays multiplied by one-hot metric->platform and platform->section matrices, instead of calling
`compute_dc_scores` once per draw; a test checks that draw-free weights reproduce
`compute_dc_scores` exactly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.scoring import (
    KEYS,
    RANK_DECIMALS,
    TIER_HIGH,
    TIER_MEDIUM,
    active_metric_table,
    directed_scores,
    tiers,
)
from dc_pipeline.domain.settings import ScoringConfig

DRAW_BATCH = 200  # bounds memory: a batch holds (200, brands, metrics) floats
TIER_BOUNDARIES: tuple[float, ...] = (TIER_MEDIUM, TIER_HIGH)

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
    section_names: tuple[str, ...]  # [K], sorted


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
        section_of_platform, section_names = pd.factorize(
            defs.drop_duplicates(["section_name", "platform_name"])["section_name"], sort=True
        )
        out.append(
            ScoreMatrix(
                project_id=int(project_id),
                period=pd.Timestamp(period),
                brand_ids=table.index.to_numpy(),
                scores=table.to_numpy(dtype=float),
                weights=defs["weight"].to_numpy(dtype=float),
                metric_platform=np.eye(platform.max() + 1)[platform],
                platform_section=np.eye(section_of_platform.max() + 1)[section_of_platform],
                section_names=tuple(str(name) for name in section_names),
            )
        )
    return out


def draw_dc_scores(
    matrix: ScoreMatrix, weights: np.ndarray, config: ScoringConfig, section_factors: np.ndarray | None = None
) -> np.ndarray:
    """DC [D, B] for metric weight draws [D, M], following SPEC §4 (null DC as NaN).
    `section_factors` [D, K] multiply the section weights (the Sobol inputs), whichever the
    section weighting; sections are ordered by name."""
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
    if section_factors is not None:
        w_section = w_section * section_factors
    s_w = np.where(s_def, w_section[:, None, :], 0.0)
    dc_den = s_w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dc = np.where(dc_den > 0, (s_w * s_score).sum(axis=-1) / dc_den, np.nan)
        coverage = aw.sum(axis=-1) / weights.sum(axis=-1)[:, None]
    return np.where(np.isfinite(coverage) & (coverage >= config.min_weight_coverage), dc, np.nan)


def crossed_boundaries(dc_lo: float, dc_hi: float) -> list[float]:
    """The tier boundaries (60, 80) inside a DC band: lo < boundary <= hi, so a band that only
    touches a boundary from below stays in one tier (tiers start at the boundary)."""
    return [t for t in TIER_BOUNDARIES if dc_lo < t <= dc_hi]


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
    frame["tier_uncertain"] = [bool(crossed_boundaries(lo, hi)) for lo, hi in zip(frame["dc_lo"], frame["dc_hi"])]
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
