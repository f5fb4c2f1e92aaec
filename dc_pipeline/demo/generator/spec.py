"""The SPEC §12 demo dataset as data: ids, vocabulary, platforms, latent-model and fault sizes."""

from __future__ import annotations

import numpy as np

from dc_pipeline.domain.source_tables import SECTIONS

FIRST_PROJECT_ID = 101
FIRST_BRAND_ID = 11
FIRST_METRIC_ID = 1001
FIRST_VALUE_ID = 1001
CATEGORY_ID = 2
CATEGORY_NAME = "Smartphones"
VALUE_SOURCE = "demo"
# Non-existent metric ids used by the V2 fault: far above any generated id.
UNKNOWN_METRIC_ID_BASE = 9_000_000

PLATFORMS: dict[str, tuple[str, ...]] = {
    "Marketplace": ("Amazon", "Flipkart"),
    "Digital Spends": ("Meta Ads", "Google Ads"),
    "Organic Performance": ("Website/SEO", "YouTube"),
    "Socialwatch": ("Instagram", "Facebook", "X"),
}
# The 16-name vocabulary, grouped by the section each name naturally belongs to.
SECTION_VOCABULARY: dict[str, tuple[str, ...]] = {
    "Marketplace": ("ratings", "reviews", "search_rank", "availability"),
    "Digital Spends": ("spend", "cpm", "cpc", "ctr", "roas"),
    "Organic Performance": ("organic_traffic", "keyword_rank", "organic_reach"),
    "Socialwatch": ("followers", "engagement_rate", "share_of_voice", "sentiment"),
}
METRIC_VOCABULARY: tuple[str, ...] = tuple(n for s in SECTIONS for n in SECTION_VOCABULARY[s])
MINIMIZE_METRICS = frozenset({"search_rank", "cpm", "cpc", "keyword_rank"})
METRIC_UNITS: dict[str, str] = {
    "ratings": "stars",
    "reviews": "count",
    "search_rank": "rank",
    "availability": "percent",
    "spend": "USD",
    "cpm": "USD",
    "cpc": "USD",
    "ctr": "percent",
    "roas": "ratio",
    "organic_traffic": "visits",
    "keyword_rank": "rank",
    "organic_reach": "users",
    "followers": "count",
    "engagement_rate": "percent",
    "share_of_voice": "percent",
    "sentiment": "index",
}
SECTION_OFFSETS: dict[str, float] = {
    "Marketplace": 3.0,
    "Digital Spends": -3.5,
    "Organic Performance": 0.0,
    "Socialwatch": 0.5,
}
HISTORY_PROFILES: tuple[str | int, ...] = ("full", 12, 6, "full")
WEIGHT_CHOICES = np.array([0.5, 1.0, 1.5, 2.0])
BASE_RANGE = (70.0, 83.0)
TREND_RANGE = (0.15, 0.35)
AR_PHI, AR_SIGMA = 0.5, 1.0
SEASONAL_AMPLITUDE = 2.0
METRIC_OFFSET_SD, CELL_NOISE_SD = 4.0, 1.5

# Fault sizes of the SPEC §12 table (default knobs).
OUT_OF_RANGE_SHARE = 0.005
N_EXACT_DUPLICATES, N_CONFLICT_DUPLICATES = 10, 5
N_UNKNOWN_METRIC_ROWS = 8
N_VALUE_JUMPS, JUMP_POINTS = 3, 50.0
N_NEGATIVE_REVENUE = 2

# Random stream purposes: a stream is keyed by (seed, purpose, index).
LATENT, PROJECT_DEFS, PROJECT_VALUES, PROJECT_OUTCOMES, FAULTS = range(1, 6)


def rng(seed: int, *path: int) -> np.random.Generator:
    return np.random.default_rng([seed, *path])


def brand_pool_size(brands_per_project: int) -> int:
    """A pool of `brands_per_project + 3` brands, so projects overlap only in part."""
    return brands_per_project + 3


def history_length(profile: str | int, periods: int) -> int:
    """Periods a project covers under its history profile ('full' = all of them)."""
    return periods if profile == "full" else min(int(profile), periods)
