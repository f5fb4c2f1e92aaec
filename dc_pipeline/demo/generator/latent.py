"""The latent model of SPEC §12: per pool brand and period, four section scores (base, section
offset, trend, seasonality, AR(1) noise), and the §4 weighted scores of generated metric cells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator.spec import (
    AR_PHI,
    AR_SIGMA,
    BASE_RANGE,
    LATENT,
    SEASONAL_AMPLITUDE,
    SECTION_OFFSETS,
    TREND_RANGE,
    rng,
)
from dc_pipeline.domain.source_tables import SECTIONS


def weighted_scores(
    directed: np.ndarray,
    present: np.ndarray,
    weights: np.ndarray,
    platform_of: np.ndarray,
    section_of_platform: np.ndarray,
    min_weight_coverage: float = 0.7,
) -> tuple[np.ndarray, np.ndarray]:
    """SPEC §4 weighted DC (metric_sum section weights) over the last axis of (..., M) arrays.

    Returns (dc (...), section scores (..., 4)); NaN where undefined or below the coverage floor.
    """
    n_platforms = section_of_platform.size
    to_platform = np.eye(n_platforms)[platform_of]  # (M, P)
    to_section = np.eye(len(SECTIONS))[section_of_platform]  # (P, 4)
    w_present = np.where(present, weights, 0.0)
    den_p = w_present @ to_platform
    num_p = np.where(present, directed, 0.0) * weights @ to_platform
    defined_p = den_p > 0
    platform_score = np.divide(num_p, den_p, out=np.zeros_like(num_p), where=defined_p)
    nominal_p = weights @ to_platform  # W_p over active metrics
    wp = np.where(defined_p, nominal_p, 0.0)
    den_s = wp @ to_section
    defined_s = den_s > 0
    section = np.divide((platform_score * wp) @ to_section, den_s, out=np.full_like(den_s, np.nan), where=defined_s)
    nominal_s = nominal_p @ to_section  # W_sigma
    ws = np.where(defined_s, nominal_s, 0.0)
    den = ws.sum(axis=-1)
    dc = np.divide((np.nan_to_num(section) * ws).sum(axis=-1), den, out=np.full_like(den, np.nan), where=den > 0)
    coverage = w_present.sum(axis=-1) / weights.sum()
    dc = np.where(coverage >= min_weight_coverage, dc, np.nan)
    return dc, section


@dataclass
class Latent:
    base: np.ndarray  # (pool,)
    price: np.ndarray  # (pool,)
    spend_ratio: np.ndarray  # (pool,)
    sections: np.ndarray  # (pool, 4, periods)


def latent_model(seed: int, pool: int, dates: pd.DatetimeIndex, grain: str) -> Latent:
    """Section scores `base_i + off_σ + trend_i·t + 2·sin(2π·month/12 + φ_i) + AR(1)` for every pool brand."""
    stream = rng(seed, LATENT)
    n_t = len(dates)
    base = stream.permutation(np.linspace(*BASE_RANGE, pool)) if pool > 1 else np.array([np.mean(BASE_RANGE)])
    trend = stream.uniform(*TREND_RANGE, pool)
    phase = stream.uniform(0, 2 * np.pi, pool)
    price = stream.uniform(100, 1000, pool)
    spend_ratio = stream.uniform(0.08, 0.15, pool)
    shocks = stream.normal(0, AR_SIGMA, (pool, len(SECTIONS), n_t))
    ar = np.empty_like(shocks)
    ar[..., 0] = shocks[..., 0] / np.sqrt(1 - AR_PHI**2)  # stationary start
    for t in range(1, n_t):
        ar[..., t] = AR_PHI * ar[..., t - 1] + shocks[..., t]
    months_elapsed = np.arange(n_t) * (1 if grain == "month" else 3)
    month = dates.month.to_numpy()
    seasonal = SEASONAL_AMPLITUDE * np.sin(2 * np.pi * month[None, :] / 12 + phase[:, None])
    offsets = np.array([SECTION_OFFSETS[s] for s in SECTIONS])
    sections = (
        base[:, None, None]
        + offsets[None, :, None]
        + trend[:, None, None] * months_elapsed[None, None, :]
        + seasonal[:, None, :]
        + ar
    )
    return Latent(base, price, spend_ratio, sections)
