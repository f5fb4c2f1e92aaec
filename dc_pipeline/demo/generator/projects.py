"""One generated project, step by step (SPEC §12): its plan (id, history, members), definitions
(metric weights, effort costs, brand weights), reference rows, metric cells and outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator.latent import Latent, weighted_scores
from dc_pipeline.demo.generator.layout import MetricLayout
from dc_pipeline.demo.generator.spec import (
    CATEGORY_ID,
    CATEGORY_NAME,
    CELL_NOISE_SD,
    FIRST_BRAND_ID,
    FIRST_METRIC_ID,
    FIRST_PROJECT_ID,
    HISTORY_PROFILES,
    METRIC_OFFSET_SD,
    METRIC_UNITS,
    PROJECT_DEFS,
    PROJECT_OUTCOMES,
    PROJECT_VALUES,
    WEIGHT_CHOICES,
    history_length,
    rng,
)

Columns = dict[str, np.ndarray]


@dataclass(frozen=True)
class ProjectPlan:
    """Project i: its ids, the periods it covers on the global time line and its member brands."""

    index: int
    project_id: int
    grain: str
    t_global: np.ndarray  # (k,) indices into the global time line
    members: np.ndarray  # (B,) pool indices; the first is the primary brand
    brand_ids: np.ndarray
    metric_ids: np.ndarray
    faulty: bool

    @property
    def k(self) -> int:
        return len(self.t_global)


def plan_project(i: int, periods: int, brands_per_project: int, pool: int, n_metrics: int, grain: str, faulty: bool):
    """History profiles cycle [full, 12, 6, full]; project i takes pool brands (2i + j) mod pool."""
    k = history_length(HISTORY_PROFILES[i % len(HISTORY_PROFILES)], periods)
    members = (2 * i + np.arange(brands_per_project)) % pool
    return ProjectPlan(
        index=i,
        project_id=FIRST_PROJECT_ID + i,
        grain=grain,
        t_global=np.arange(periods - k, periods),
        members=members,
        brand_ids=FIRST_BRAND_ID + members,
        metric_ids=FIRST_METRIC_ID + i * n_metrics + np.arange(n_metrics),
        faulty=faulty,
    )


@dataclass(frozen=True)
class Definitions:
    weights: np.ndarray  # (M,) metrics.weight from {0.5, 1, 1.5, 2}
    effort: np.ndarray  # (M,) metrics.effort_cost ~ U(0.5, 2)
    brand_weights: np.ndarray  # (B,) project_brands.weight: 1 for the primary, U(0.5, 1.5) else


def draw_definitions(seed: int, plan: ProjectPlan, n_metrics: int) -> Definitions:
    stream = rng(seed, PROJECT_DEFS, plan.index)
    weights = stream.choice(WEIGHT_CHOICES, n_metrics)
    effort = np.round(stream.uniform(0.5, 2.0, n_metrics), 3)
    brand_weights = np.round(stream.uniform(0.5, 1.5, len(plan.members)), 2)
    brand_weights[0] = 1.0
    return Definitions(weights, effort, brand_weights)


def project_row(plan: ProjectPlan, dates: pd.DatetimeIndex, stamps: pd.DatetimeIndex, n_metrics: int) -> dict:
    grain = plan.grain
    return dict(
        project_id=plan.project_id,
        project_name=f"Demo {CATEGORY_NAME} Tracker {plan.project_id}",
        description=(
            f"Generated demo project: {plan.k} {grain}ly periods, {len(plan.members)} brands, "
            f"{n_metrics} metrics" + ("; planted data-quality faults" if plan.faulty else "")
        ),
        category_id=CATEGORY_ID,
        series_group=None,
        period_grain=grain,
        start_date=dates[plan.t_global[0]],
        end_date=dates[-1],
        status="completed",
        created_at=stamps[plan.t_global[0]] - pd.DateOffset(months=1 if grain == "month" else 3),
        updated_at=stamps[-1],
    )


def membership_rows(plan: ProjectPlan, definitions: Definitions, created: Any) -> list[dict]:
    return [
        dict(
            project_id=plan.project_id,
            brand_id=int(b),
            role="primary" if j == 0 else "competitor",
            weight=float(definitions.brand_weights[j]),
            created_at=created,
            updated_at=created,
        )
        for j, b in enumerate(plan.brand_ids)
    ]


def metric_frame(plan: ProjectPlan, layout: MetricLayout, definitions: Definitions, created: Any) -> pd.DataFrame:
    frame = layout.frame
    return frame.assign(
        metric_id=plan.metric_ids,
        project_id=plan.project_id,
        display_name=[f"{p} {n.replace('_', ' ').title()}" for p, n in zip(frame.platform_name, frame.metric_name)],
        unit=frame.metric_name.map(METRIC_UNITS),
        weight=definitions.weights,
        effort_cost=definitions.effort,
        is_active=True,
        created_at=created,
        updated_at=created,
    )


def directed_scores(
    seed: int, plan: ProjectPlan, layout: MetricLayout, latent: Latent, missing_rate: float
) -> tuple[np.ndarray, np.ndarray]:
    """(directed scores, present mask), both (B, M, k): latent section + per-(brand, metric) offset +
    cell noise, clipped to [0, 100]; exactly round(missing_rate · cells) cells are absent."""
    stream = rng(seed, PROJECT_VALUES, plan.index)
    lat = latent.sections[plan.members][:, layout.section_of_metric][:, :, plan.t_global]
    offset = stream.normal(0, METRIC_OFFSET_SD, (len(plan.members), layout.n_metrics, 1))
    noise = stream.normal(0, CELL_NOISE_SD, lat.shape)
    directed = np.round(np.clip(lat + offset + noise, 0, 100), 2)
    n_cells = directed.size
    present = np.ones(n_cells, dtype=bool)
    present[stream.choice(n_cells, int(round(missing_rate * n_cells)), replace=False)] = False
    return directed, present.reshape(directed.shape)


def value_columns(plan: ProjectPlan, layout: MetricLayout, directed: np.ndarray, present: np.ndarray) -> Columns:
    """The present cells as normalisedvalue columns: stored = score, or 100 − score for minimize."""
    b_idx, m_idx, t_idx = np.nonzero(present)
    score = directed[b_idx, m_idx, t_idx]
    stored = np.where(layout.minimize[m_idx], np.round(100 - score, 2), score)
    # Compact dtypes keep the peak memory of large datasets low; widened in tables.value_table.
    return dict(
        project_id=np.full(b_idx.size, plan.project_id, dtype=np.int32),
        brand_id=plan.brand_ids[b_idx].astype(np.int32),
        metric_id=plan.metric_ids[m_idx].astype(np.int32),
        t=plan.t_global[t_idx].astype(np.int16),
        normalized_value=stored,
        section=layout.section_of_metric[m_idx].astype(np.int8),
    )


def outcome_columns(
    seed: int,
    plan: ProjectPlan,
    layout: MetricLayout,
    definitions: Definitions,
    latent: Latent,
    cells: tuple[np.ndarray, np.ndarray],
    dates: pd.DatetimeIndex,
) -> Columns:
    """business_outcomes columns of every (brand, period), from the §4 scores of the present cells."""
    directed, present = cells
    dc, sec = weighted_scores(
        directed.transpose(0, 2, 1),  # metrics to the last axis: (B, k, M)
        present.transpose(0, 2, 1),
        definitions.weights,
        layout.platform_of,
        layout.section_of_platform,
    )
    stream = rng(seed, PROJECT_OUTCOMES, plan.index)
    outcomes = outcome_formulas(
        stream, dc, sec, latent, plan.members, dates[plan.t_global], plan.grain, null_equity=(plan.index == 1)
    )
    n_brands = len(plan.members)
    outcomes.update(
        project_id=np.full(n_brands * plan.k, plan.project_id),
        brand_id=np.repeat(plan.brand_ids, plan.k),
        t=np.tile(plan.t_global, n_brands),
    )
    return outcomes


def outcome_formulas(
    stream: np.random.Generator,
    dc: np.ndarray,
    sec: np.ndarray,
    latent: Latent,
    members: np.ndarray,
    covered: pd.DatetimeIndex,
    grain: str,
    null_equity: bool,
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
        * np.exp(stream.normal(0, 0.03, shape))
        * scale
    )
    market_share = 70 * revenue / np.nansum(revenue, axis=0, keepdims=True)
    cac = np.maximum(5, 52 - 1.1 * (dc - 72) + stream.normal(0, 1, shape))
    rank = np.maximum(1, np.round((92 - mkt) / 2.5 + stream.normal(0, 0.5, shape)))
    conversion = 2.0 + 0.08 * (dc - 70) + stream.normal(0, 0.2, shape)
    units = np.round(revenue / latent.price[members][:, None])
    spend = revenue * latent.spend_ratio[members][:, None] * np.exp(stream.normal(0, 0.05, shape))
    clv = 900 + 25 * (dc - 70) + stream.normal(0, 30, shape)
    equity = np.clip(0.5 * dc + 0.25 * (org + soc) + stream.normal(0, 2, shape), 0, 100)
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
