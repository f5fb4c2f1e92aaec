"""`generate(...)`: the demo dataset of SPEC §12, built project by project from the named steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator.faults import plant_faults
from dc_pipeline.demo.generator.latent import Latent, latent_model
from dc_pipeline.demo.generator.layout import MetricLayout
from dc_pipeline.demo.generator.projects import (
    Columns,
    directed_scores,
    draw_definitions,
    membership_rows,
    metric_frame,
    outcome_columns,
    plan_project,
    project_row,
    value_columns,
)
from dc_pipeline.demo.generator.spec import HISTORY_PROFILES, brand_pool_size, history_length
from dc_pipeline.demo.generator.tables import (
    brands_table,
    categories_table,
    ordered,
    outcome_table,
    value_table,
)
from dc_pipeline.demo.generator.timeline import loaded_at, period_index


@dataclass
class DemoData:
    tables: dict[str, pd.DataFrame]
    planted_faults: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Parts:
    """Rows collected per project before the tables are assembled."""

    projects: list[dict] = field(default_factory=list)
    memberships: list[dict] = field(default_factory=list)
    metrics: list[pd.DataFrame] = field(default_factory=list)
    values: list[Columns] = field(default_factory=list)
    outcomes: list[Columns] = field(default_factory=list)


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
    latent = latent_model(seed, brand_pool_size(brands_per_project), dates, grain)
    layout = MetricLayout.build(metrics_per_platform)
    faulty = _resolve_faulty(faulty_project, projects, periods)

    parts, is_primary, planted = _build_projects(
        seed, projects, brands_per_project, periods, grain, missing_rate, faulty, dates, stamps, latent, layout
    )
    tables = {
        "categories": categories_table(stamps[0]),
        "projects": pd.DataFrame(parts.projects),
        "brands": brands_table(brand_pool_size(brands_per_project), is_primary, stamps[0]),
        "project_brands": pd.DataFrame(parts.memberships),
        "metrics": pd.concat(parts.metrics, ignore_index=True),
        "normalisedvalue": value_table(parts.values, dates, stamps),
        "business_outcomes": outcome_table(parts.outcomes, dates, stamps),
    }
    return DemoData(tables={name: ordered(name, df) for name, df in tables.items()}, planted_faults=planted)


def _build_projects(
    seed: int,
    projects: int,
    brands_per_project: int,
    periods: int,
    grain: str,
    missing_rate: float,
    faulty: int | None,
    dates: pd.DatetimeIndex,
    stamps: pd.DatetimeIndex,
    latent: Latent,
    layout: MetricLayout,
) -> tuple[_Parts, np.ndarray, dict[str, Any]]:
    """Every project's rows (plan, definitions, reference rows, cells, outcomes, faults), the pool
    brands that are primary somewhere, and the planted-fault counts."""
    pool = brand_pool_size(brands_per_project)
    parts = _Parts()
    is_primary = np.zeros(pool, dtype=bool)
    planted: dict[str, Any] = {"project_id": None, "faults": {}}
    for i in range(projects):
        plan = plan_project(i, periods, brands_per_project, pool, layout.n_metrics, grain, faulty=(i == faulty))
        is_primary[plan.members[0]] = True
        definitions = draw_definitions(seed, plan, layout.n_metrics)
        parts.projects.append(project_row(plan, dates, stamps, layout.n_metrics))
        created = parts.projects[-1]["created_at"]
        parts.memberships += membership_rows(plan, definitions, created)
        parts.metrics.append(metric_frame(plan, layout, definitions, created))
        cells = directed_scores(seed, plan, layout, latent, missing_rate)
        outcomes = outcome_columns(seed, plan, layout, definitions, latent, cells, dates)
        values = value_columns(plan, layout, *cells)
        if plan.faulty:
            values, outcomes, planted = plant_faults(seed, plan, values, outcomes, layout.section_of_metric, dates)
        parts.values.append(values)
        parts.outcomes.append(outcomes)
    return parts, is_primary, planted


def _resolve_faulty(faulty_project: int | None, projects: int, periods: int) -> int | None:
    """The faulty project's index (negative counts from the end), checked to have ≥ 3 periods."""
    if faulty_project is None:
        return None
    if not -projects <= faulty_project < projects:
        raise ValueError(f"faulty_project {faulty_project} out of range for {projects} projects")
    faulty = faulty_project % projects
    if history_length(HISTORY_PROFILES[faulty % 4], periods) < 3:
        raise ValueError("the faulty project needs at least 3 periods")
    return faulty
