"""Deterministic demo dataset generator (SPEC §12).

`generate(...)` returns the seven source tables (`SOURCE_COLUMNS` plus `created_at`/`updated_at`)
for projects 101 onward and the faults planted in the faulty project.

Choices the SPEC leaves open (documented here so other modules can rely on them):
- Time line: one global time line of `periods` month (or quarter) starts from `start`. A project
  with history profile k covers the LAST k periods of it, so every project ends at the same last
  period (its end_date). Projects have a null `series_group`: each project is its own time line.
- Latent section scores belong to the pool brand and the global period, so a brand shared by two
  projects follows the same trajectory in both (cross-project evolution has data). The fixed
  per-(brand, metric) offsets and the cell noise are drawn per project.
- `trend_i` is per month: the trend term uses months elapsed (3 per quarter for quarterly grain).
- The missing share is exact: round(missing_rate * cells) cells per project are omitted.
- DC, section scores and outcomes use the §4 weighted method (metric_sum section weights) on the
  directed scores of the cells that are present.
- The faulty project keeps its outcome rows for the periods its brand lost (only values go).
- Stored values and outcomes are rounded to the scale of their database columns.
- `created_at`/`updated_at` of a value or outcome row is the first day of the next period + 2 days
  06:00 UTC ("loaded after the period closed"); reference rows use the project start.
- project_brands.weight is 1.0 for the primary brand and U(0.5, 1.5) for competitors.
- Random streams are keyed by (seed, purpose, index), so a project's clean data does not depend
  on how many projects are generated or which one is faulty.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS, SOURCE_COLUMNS

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

# Random stream purposes.
_LATENT, _PROJECT_DEFS, _PROJECT_VALUES, _PROJECT_OUTCOMES, _FAULTS = range(1, 6)


@dataclass
class DemoData:
    tables: dict[str, pd.DataFrame]
    planted_faults: dict[str, Any] = field(default_factory=dict)


def brand_letters(index: int) -> str:
    """Spreadsheet-style letters: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters


def period_index(start: str | pd.Timestamp, periods: int, grain: str) -> pd.DatetimeIndex:
    """The first days of `periods` months/quarters from the period containing `start`."""
    if grain not in ("month", "quarter"):
        raise ValueError(f"grain must be 'month' or 'quarter', got {grain!r}")
    freq = "M" if grain == "month" else "Q"
    first = pd.Timestamp(start).to_period(freq).start_time
    return pd.period_range(first, periods=periods, freq=freq).to_timestamp().astype("datetime64[ns]")


def loaded_at(periods: pd.DatetimeIndex | pd.Series, grain: str) -> pd.DatetimeIndex:
    """Deterministic load time of a period's rows: next period start + 2 days 06:00 UTC."""
    step = pd.DateOffset(months=1 if grain == "month" else 3)
    stamps = pd.DatetimeIndex(periods) + step + pd.Timedelta(days=2, hours=6)
    return stamps.tz_localize("UTC")


def _rng(seed: int, *path: int) -> np.random.Generator:
    return np.random.default_rng([seed, *path])


def metric_layout(metrics_per_platform: int) -> pd.DataFrame:
    """(section_name, platform_name, metric_name, metric_type) of one project's metrics.

    Platform q of a section takes `metrics_per_platform` consecutive names of the section's own
    vocabulary (rotated by q), continuing into the rest of the 16 names when the section has fewer.
    """
    if not 1 <= metrics_per_platform <= len(METRIC_VOCABULARY):
        raise ValueError(f"metrics_per_platform must be in [1, {len(METRIC_VOCABULARY)}]")
    rows = []
    for section in SECTIONS:
        own = SECTION_VOCABULARY[section]
        names = own + tuple(n for n in METRIC_VOCABULARY if n not in own)
        for q, platform in enumerate(PLATFORMS[section]):
            for j in range(metrics_per_platform):
                name = names[(q + j) % len(names)]
                rows.append((section, platform, name, "minimize" if name in MINIMIZE_METRICS else "maximize"))
    return pd.DataFrame(rows, columns=["section_name", "platform_name", "metric_name", "metric_type"])


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
class _Latent:
    base: np.ndarray  # (pool,)
    price: np.ndarray  # (pool,)
    spend_ratio: np.ndarray  # (pool,)
    sections: np.ndarray  # (pool, 4, periods)


def _latent(seed: int, pool: int, dates: pd.DatetimeIndex, grain: str) -> _Latent:
    rng = _rng(seed, _LATENT)
    n_t = len(dates)
    base = rng.permutation(np.linspace(*BASE_RANGE, pool)) if pool > 1 else np.array([np.mean(BASE_RANGE)])
    trend = rng.uniform(*TREND_RANGE, pool)
    phase = rng.uniform(0, 2 * np.pi, pool)
    price = rng.uniform(100, 1000, pool)
    spend_ratio = rng.uniform(0.08, 0.15, pool)
    shocks = rng.normal(0, AR_SIGMA, (pool, len(SECTIONS), n_t))
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
    return _Latent(base, price, spend_ratio, sections)


def _history_length(profile: str | int, periods: int) -> int:
    return periods if profile == "full" else min(int(profile), periods)


def _resolve_faulty(faulty_project: int | None, projects: int) -> int | None:
    if faulty_project is None:
        return None
    if not -projects <= faulty_project < projects:
        raise ValueError(f"faulty_project {faulty_project} out of range for {projects} projects")
    return faulty_project % projects


def generate(
    seed: int = 42,
    projects: int = 4,
    brands_per_project: int = 5,
    metrics_per_platform: int = 3,
    periods: int = 36,
    grain: str = "month",
    start: str = "2022-01-01",
    missing_rate: float = 0.01,
    faulty_project: int | None = -1,
) -> DemoData:
    """Generate the demo source tables (SPEC §12). `faulty_project=None` plants no faults."""
    if projects < 1 or brands_per_project < 1 or periods < 1:
        raise ValueError("projects, brands_per_project and periods must be >= 1")
    if not 0 <= missing_rate < 0.3:
        raise ValueError("missing_rate must be in [0, 0.3)")
    dates = period_index(start, periods, grain)
    stamps = loaded_at(dates, grain)
    pool = brands_per_project + 3
    latent = _latent(seed, pool, dates, grain)
    layout = metric_layout(metrics_per_platform)
    faulty = _resolve_faulty(faulty_project, projects)
    if faulty is not None and _history_length(HISTORY_PROFILES[faulty % 4], periods) < 3:
        raise ValueError("the faulty project needs at least 3 periods")

    plat_names = [(s, p) for s in SECTIONS for p in PLATFORMS[s]]
    platform_of = np.array([plat_names.index((s, p)) for s, p in zip(layout.section_name, layout.platform_name)])
    section_of_platform = np.array([SECTIONS.index(s) for s, _ in plat_names])
    section_of_metric = section_of_platform[platform_of]
    minimize = (layout.metric_type == "minimize").to_numpy()
    n_metrics = len(layout)

    proj_rows, pb_rows, metric_frames, value_parts, outcome_parts = [], [], [], [], []
    is_primary = np.zeros(pool, dtype=bool)
    planted: dict[str, Any] = {"project_id": None, "faults": {}}
    for i in range(projects):
        project_id = FIRST_PROJECT_ID + i
        profile = HISTORY_PROFILES[i % len(HISTORY_PROFILES)]
        k = _history_length(profile, periods)
        t_global = np.arange(periods - k, periods)
        members = (2 * i + np.arange(brands_per_project)) % pool
        is_primary[members[0]] = True
        brand_ids = FIRST_BRAND_ID + members
        metric_ids = FIRST_METRIC_ID + i * n_metrics + np.arange(n_metrics)

        rng_defs = _rng(seed, _PROJECT_DEFS, i)
        weights = rng_defs.choice(WEIGHT_CHOICES, n_metrics)
        effort = np.round(rng_defs.uniform(0.5, 2.0, n_metrics), 3)
        brand_weights = np.round(rng_defs.uniform(0.5, 1.5, brands_per_project), 2)
        brand_weights[0] = 1.0
        proj_rows.append(
            dict(
                project_id=project_id,
                project_name=f"Demo {CATEGORY_NAME} Tracker {project_id}",
                description=(
                    f"Generated demo project: {k} {grain}ly periods, {brands_per_project} brands, "
                    f"{n_metrics} metrics" + ("; planted data-quality faults" if i == faulty else "")
                ),
                category_id=CATEGORY_ID,
                series_group=None,
                period_grain=grain,
                start_date=dates[t_global[0]],
                end_date=dates[-1],
                status="completed",
                created_at=stamps[t_global[0]] - pd.DateOffset(months=1 if grain == "month" else 3),
                updated_at=stamps[-1],
            )
        )
        created = proj_rows[-1]["created_at"]
        for j, b in enumerate(brand_ids):
            pb_rows.append(
                dict(
                    project_id=project_id,
                    brand_id=int(b),
                    role="primary" if j == 0 else "competitor",
                    weight=float(brand_weights[j]),
                    created_at=created,
                    updated_at=created,
                )
            )
        metric_frames.append(
            layout.assign(
                metric_id=metric_ids,
                project_id=project_id,
                display_name=[
                    f"{p} {n.replace('_', ' ').title()}" for p, n in zip(layout.platform_name, layout.metric_name)
                ],
                unit=layout.metric_name.map(METRIC_UNITS),
                weight=weights,
                effort_cost=effort,
                is_active=True,
                created_at=created,
                updated_at=created,
            )
        )

        # Directed metric scores (B, M, k) and the exact missing share.
        rng_v = _rng(seed, _PROJECT_VALUES, i)
        lat = latent.sections[members][:, section_of_metric][:, :, t_global]
        offset = rng_v.normal(0, METRIC_OFFSET_SD, (brands_per_project, n_metrics, 1))
        noise = rng_v.normal(0, CELL_NOISE_SD, lat.shape)
        directed = np.round(np.clip(lat + offset + noise, 0, 100), 2)
        n_cells = directed.size
        present = np.ones(n_cells, dtype=bool)
        present[rng_v.choice(n_cells, int(round(missing_rate * n_cells)), replace=False)] = False
        present = present.reshape(directed.shape)

        # Scores per (brand, period): move metrics to the last axis.
        dc, sec = weighted_scores(
            directed.transpose(0, 2, 1), present.transpose(0, 2, 1), weights, platform_of, section_of_platform
        )
        outcomes = _outcomes(
            _rng(seed, _PROJECT_OUTCOMES, i), dc, sec, latent, members, dates[t_global], grain, null_equity=(i == 1)
        )

        b_idx, m_idx, t_idx = np.nonzero(present)
        stored = np.where(
            minimize[m_idx], np.round(100 - directed[b_idx, m_idx, t_idx], 2), directed[b_idx, m_idx, t_idx]
        )
        # Compact dtypes keep the peak memory of large datasets low; widened in _value_table.
        values = dict(
            project_id=np.full(b_idx.size, project_id, dtype=np.int32),
            brand_id=brand_ids[b_idx].astype(np.int32),
            metric_id=metric_ids[m_idx].astype(np.int32),
            t=t_global[t_idx].astype(np.int16),
            normalized_value=stored,
            section=section_of_metric[m_idx].astype(np.int8),
        )
        outcomes.update(
            project_id=np.full(brands_per_project * k, project_id),
            brand_id=np.repeat(brand_ids, k),
            t=np.tile(t_global, brands_per_project),
        )
        if i == faulty:
            values, outcomes, planted = _plant_faults(
                _rng(seed, _FAULTS, i),
                values,
                outcomes,
                project_id=project_id,
                k=k,
                t_first=int(t_global[0]),
                brand_ids=brand_ids,
                metric_ids=metric_ids,
                section_of_metric=section_of_metric,
                dates=dates,
            )
        value_parts.append(values)
        outcome_parts.append(outcomes)

    tables = {
        "categories": _categories(stamps[0]),
        "projects": pd.DataFrame(proj_rows),
        "brands": _brands(pool, is_primary, stamps[0]),
        "project_brands": pd.DataFrame(pb_rows),
        "metrics": pd.concat(metric_frames, ignore_index=True),
        "normalisedvalue": _value_table(value_parts, dates, stamps),
        "business_outcomes": _outcome_table(outcome_parts, dates, stamps),
    }
    tables = {name: _ordered(name, df) for name, df in tables.items()}
    return DemoData(tables=tables, planted_faults=planted)


def _outcomes(
    rng, dc, sec, latent: _Latent, members, covered: pd.DatetimeIndex, grain: str, null_equity: bool
) -> dict[str, np.ndarray]:
    """The nine outcome formulas of SPEC §12 on (brand, period) arrays, flattened brand-major."""
    shape = dc.shape
    scale = 1.0 if grain == "month" else 3.0  # revenue-like values for quarterly grain
    month = covered.month.to_numpy()[None, :]
    base = latent.base[members][:, None]
    mkt, org, soc = sec[..., 0], sec[..., 2], sec[..., 3]
    revenue = (
        5e6
        * 1.08 ** (base - 76)
        * 1.03 ** (dc - 80)
        * (1 + 0.05 * np.sin(2 * np.pi * month / 12))
        * np.exp(rng.normal(0, 0.03, shape))
        * scale
    )
    market_share = 70 * revenue / np.nansum(revenue, axis=0, keepdims=True)
    cac = np.maximum(5, 52 - 1.1 * (dc - 72) + rng.normal(0, 1, shape))
    rank = np.maximum(1, np.round((92 - mkt) / 2.5 + rng.normal(0, 0.5, shape)))
    conversion = 2.0 + 0.08 * (dc - 70) + rng.normal(0, 0.2, shape)
    units = np.round(revenue / latent.price[members][:, None])
    spend = revenue * latent.spend_ratio[members][:, None] * np.exp(rng.normal(0, 0.05, shape))
    clv = 900 + 25 * (dc - 70) + rng.normal(0, 30, shape)
    equity = np.clip(0.5 * dc + 0.25 * (org + soc) + rng.normal(0, 2, shape), 0, 100)
    if null_equity:
        equity = np.full(shape, np.nan)
    cols = dict(
        revenue=np.round(revenue, 2),
        market_share=np.round(market_share, 3),
        customer_acquisition_cost=np.round(cac, 2),
        bestseller_rank=rank,
        conversion_rate=np.round(conversion, 3),
        sales_units=units,
        marketing_spend=np.round(spend, 2),
        customer_lifetime_value=np.round(clv, 2),
        brand_equity_index=np.round(equity, 2),
    )
    return {c: v.ravel() for c, v in cols.items()}


def _categories(created: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                category_id=CATEGORY_ID,
                category_name=CATEGORY_NAME,
                parent_category_id=None,
                description="Smartphone brands of the generated demo projects",
                created_at=created,
                updated_at=created,
            )
        ]
    ).astype({"parent_category_id": "Int64"})


def _brands(pool: int, is_primary: np.ndarray, created: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        dict(
            brand_id=FIRST_BRAND_ID + np.arange(pool),
            brand_name=[f"Brand {brand_letters(b)}" for b in range(pool)],
            category_id=CATEGORY_ID,
            brand_type=np.where(is_primary, "primary", "competitor"),
            is_active=True,
            created_at=created,
            updated_at=created,
        )
    )


def _concat(parts: list[dict[str, np.ndarray]], column: str) -> np.ndarray:
    return np.concatenate([p[column] for p in parts])


def _value_table(parts, dates: pd.DatetimeIndex, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    t = _concat(parts, "t")
    section_code = _concat(parts, "section")
    # -1 marks a row without a section label (rows of unknown metrics).
    labels = np.array([*SECTIONS, None], dtype=object)[section_code]
    n = t.size
    ts = stamps[t]
    return pd.DataFrame(
        {
            "id": FIRST_VALUE_ID + np.arange(n, dtype=np.int64),
            "project_id": _concat(parts, "project_id").astype(np.int64),
            "brand_id": _concat(parts, "brand_id").astype(np.int64),
            "metric_id": _concat(parts, "metric_id").astype(np.int64),
            "period": dates[t],
            "normalized_value": _concat(parts, "normalized_value").astype(float),
            "raw_value": np.full(n, np.nan),
            "section": pd.array(labels, dtype="str"),
            "source": pd.array(np.full(n, VALUE_SOURCE, dtype=object), dtype="str"),
            "created_at": ts,
            "updated_at": ts,
        },
        copy=False,
    )


def _outcome_table(parts, dates: pd.DatetimeIndex, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    t = _concat(parts, "t")
    frame = pd.DataFrame(
        {
            "project_id": _concat(parts, "project_id").astype(np.int64),
            "brand_id": _concat(parts, "brand_id").astype(np.int64),
            "period": dates[t],
            **{c: _concat(parts, c) for c in OUTCOME_COLUMNS},
            "currency": "USD",
            "created_at": stamps[t],
            "updated_at": stamps[t],
        }
    )
    return frame.astype({"bestseller_rank": "Int64", "sales_units": "Int64"})


def _ordered(name: str, df: pd.DataFrame) -> pd.DataFrame:
    columns = [*SOURCE_COLUMNS[name], "created_at", "updated_at"]
    if list(df.columns) == columns:  # already in order: no copy of a large frame
        return df
    return df[columns].reset_index(drop=True)


def _plant_faults(
    rng, values, outcomes, *, project_id, k, t_first, brand_ids, metric_ids, section_of_metric, dates
) -> tuple[dict, dict, dict]:
    """Plant every fault of the SPEC §12 table in one project's rows; return their exact counts.

    Faults never overlap: each touched cell is reserved, so every count is exactly what a rule
    re-counting the rows finds. Out-of-range values are placed on cells already near a bound so
    that they do not also create K2 jumps.
    """
    v = pd.DataFrame(values)
    o = pd.DataFrame(outcomes)
    t_last = t_first + k - 1

    def key(row) -> dict[str, Any]:
        return {
            "brand_id": int(row.brand_id),
            "metric_id": int(row.metric_id),
            "period": dates[int(row.t)].strftime("%Y-%m-%d"),
        }

    faults: dict[str, Any] = {}
    rows_before = len(v)

    # One brand (the last member: a competitor when there are several) loses its last 2 periods.
    lost_brand = int(brand_ids[-1])
    lost = [t_last - 1, t_last]
    drop = (v.brand_id == lost_brand) & v.t.isin(lost)
    faults["brand_missing_last_periods"] = {
        "count": 1,
        "brand_id": lost_brand,
        "periods": [dates[t].strftime("%Y-%m-%d") for t in lost],
        "rows_removed": int(drop.sum()),
    }
    v = v[~drop].reset_index(drop=True)

    # One metric whose rows all carry another section's label (K1).
    m = int(rng.integers(len(metric_ids)))
    wrong = (int(section_of_metric[m]) + 1) % len(SECTIONS)
    labelled = v.metric_id == metric_ids[m]
    v.loc[labelled, "section"] = wrong
    faults["section_mismatch"] = {
        "count": 1,
        "metric_id": int(metric_ids[m]),
        "section_name": SECTIONS[section_of_metric[m]],
        "labelled_section": SECTIONS[wrong],
        "rows": int(labelled.sum()),
    }

    reserved = np.zeros(len(v), dtype=bool)
    # Jumps of 50 points on the last period of series whose previous period is present (K2):
    # on the last period a jump is counted once (no following period jumps back).
    last = v[v.t == t_last].reset_index()
    prev = v[v.t == t_last - 1].reset_index()[["index", "brand_id", "metric_id", "normalized_value"]]
    pairs = last.merge(prev, on=["brand_id", "metric_id"], suffixes=("", "_prev"))
    pick = pairs.iloc[np.sort(rng.choice(len(pairs), min(N_VALUE_JUMPS, len(pairs)), replace=False))]
    before = pick.normalized_value_prev.to_numpy()
    jumped = np.round(np.where(before <= 50, before + JUMP_POINTS, before - JUMP_POINTS), 2)
    v.loc[pick["index"].to_numpy(), "normalized_value"] = jumped
    reserved[pick["index"].to_numpy()] = True
    reserved[pick["index_prev"].to_numpy()] = True
    faults["value_jumps"] = {
        "count": len(pick),
        "points": JUMP_POINTS,
        "keys": [
            {**key(r), "previous": float(b), "value": float(j)} for r, b, j in zip(pick.itertuples(), before, jumped)
        ],
    }

    # Values outside [0, 100] (V1) on cells within a few points of a bound.
    n_oor = max(1, int(round(OUT_OF_RANGE_SHARE * len(v))))
    free = np.flatnonzero(~reserved)
    value = v.normalized_value.to_numpy()
    distance = np.minimum(value[free], 100 - value[free])
    nearest = free[np.argsort(distance, kind="stable")[: 4 * n_oor]]
    oor = np.sort(rng.choice(nearest, n_oor, replace=False))
    beyond = np.round(rng.uniform(0.5, 5.0, n_oor), 1)
    v.loc[oor, "normalized_value"] = np.where(value[oor] >= 50, 100 + beyond, -beyond)
    reserved[oor] = True
    faults["out_of_range_values"] = {"count": n_oor, "keys": [key(r) for r in v.loc[oor].itertuples()]}

    # Exact and conflicting duplicate keys (U1), appended after the originals (higher ids).
    dup = rng.choice(np.flatnonzero(~reserved), N_EXACT_DUPLICATES + N_CONFLICT_DUPLICATES, replace=False)
    exact, conflict = np.sort(dup[:N_EXACT_DUPLICATES]), np.sort(dup[N_EXACT_DUPLICATES:])
    exact_rows = v.loc[exact].copy()
    conflict_rows = v.loc[conflict].copy()
    delta = rng.uniform(1.0, 5.0, len(conflict))
    base = conflict_rows.normalized_value.to_numpy()
    conflict_rows["normalized_value"] = np.round(np.where(base + delta <= 100, base + delta, base - delta), 2)
    faults["duplicate_exact"] = {"count": len(exact), "keys": [key(r) for r in exact_rows.itertuples()]}
    faults["duplicate_conflict"] = {"count": len(conflict), "keys": [key(r) for r in conflict_rows.itertuples()]}

    # Rows of metric ids that exist nowhere (V2), on member brands and covered periods.
    keep_brands = brand_ids[:-1] if len(brand_ids) > 1 else brand_ids
    unknown_ids = UNKNOWN_METRIC_ID_BASE + 1 + np.arange(N_UNKNOWN_METRIC_ROWS)
    unknown_rows = pd.DataFrame(
        dict(
            project_id=project_id,
            brand_id=rng.choice(keep_brands, N_UNKNOWN_METRIC_ROWS),
            metric_id=unknown_ids,
            t=rng.integers(t_first, t_last + 1, N_UNKNOWN_METRIC_ROWS),
            normalized_value=np.round(rng.uniform(20, 80, N_UNKNOWN_METRIC_ROWS), 2),
            section=-1,
        )
    )
    faults["unknown_metric_rows"] = {"count": N_UNKNOWN_METRIC_ROWS, "metric_ids": unknown_ids.tolist()}
    v = pd.concat([v, exact_rows, conflict_rows, unknown_rows], ignore_index=True)
    faults["section_mismatch"]["rows"] = int((v.metric_id == metric_ids[m]).sum())  # incl. duplicates

    # Negative revenue cells (V5) and one period whose market shares sum above 100 (K5).
    neg = np.sort(rng.choice(np.flatnonzero(np.isfinite(o.revenue.to_numpy())), N_NEGATIVE_REVENUE, replace=False))
    o.loc[neg, "revenue"] = -o.loc[neg, "revenue"]
    faults["negative_revenue"] = {
        "count": len(neg),
        "keys": [
            {"brand_id": int(r.brand_id), "period": dates[int(r.t)].strftime("%Y-%m-%d")}
            for r in o.loc[neg].itertuples()
        ],
    }
    periods = np.arange(t_first, t_last + 1)
    spare = np.setdiff1d(periods, o.t.to_numpy()[neg]) if k > len(neg) else periods
    t_over = int(rng.choice(spare))
    in_period = (o.t == t_over).to_numpy()
    target = rng.uniform(108.0, 125.0)
    shares = o.loc[in_period, "market_share"]
    o.loc[in_period, "market_share"] = np.round(np.minimum(shares * target / shares.sum(), 100.0), 3)
    share_sum = round(float(o.loc[in_period, "market_share"].sum()), 3)
    over = share_sum > 100.5  # impossible with one brand: its share would exceed 100
    faults["market_share_over_100"] = {
        "count": int(over),
        "periods": [dates[t_over].strftime("%Y-%m-%d")] if over else [],
        "share_sum": share_sum,
    }

    quarantined = n_oor + len(exact) + 2 * len(conflict) + N_UNKNOWN_METRIC_ROWS
    planted = {
        "project_id": int(project_id),
        "rows_before_faults": rows_before,
        "rows": len(v),
        "expected_quarantined_rows": quarantined,
        "faults": faults,
    }
    return ({c: v[c].to_numpy() for c in v.columns}, {c: o[c].to_numpy() for c in o.columns}, planted)
