"""The TechCorp reference fixture `fixtures/techcorp` (SPEC §4).

Three quarterly snapshot projects in series group "techcorp": Q1 and Q2 2024 carry one value per
section (platform "Composite", one maximize metric of weight 1) for three brands, plus four
outcome columns; Q3 2024 has metric definitions and members but no values and no outcomes (the
no-data path). Expected DC = the mean of the four section values (SPEC table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator import loaded_at
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS, SOURCE_COLUMNS

CATEGORY_ID = 1
CATEGORY_NAME = "Consumer Electronics"
SERIES_GROUP = "techcorp"
GRAIN = "quarter"
VALUE_SOURCE = "techcorp_fixture"

# project_id -> (name, period)
PROJECTS: dict[int, tuple[str, str]] = {
    1: ("Q1 2024 Performance Analysis", "2024-01-01"),
    2: ("Q2 2024 Performance Analysis", "2024-04-01"),
    3: ("Q3 2024 Performance Analysis", "2024-07-01"),
}
BRANDS: dict[int, tuple[str, str]] = {
    1: ("TechPhone", "primary"),
    2: ("TechLaptop", "competitor"),
    3: ("TechWatch", "competitor"),
}
SECTION_METRIC_NAMES: dict[str, str] = {
    "Marketplace": "marketplace_index",
    "Digital Spends": "digital_spends_index",
    "Organic Performance": "organic_performance_index",
    "Socialwatch": "socialwatch_index",
}
PLATFORM = "Composite"

# (project, brand) -> section scores in SECTIONS order, and the SPEC's outcome columns.
SECTION_SCORES: dict[tuple[int, int], tuple[float, float, float, float]] = {
    (1, 1): (82.3, 75.2, 79.1, 77.8),
    (1, 2): (88.1, 83.5, 84.7, 84.5),
    (1, 3): (74.5, 68.9, 73.2, 71.8),
    (2, 1): (84.1, 78.5, 81.8, 80.4),
    (2, 2): (90.2, 86.1, 87.5, 87.4),
    (2, 3): (78.2, 72.1, 76.9, 76.0),
}
# (project, brand) -> (revenue, market_share, customer_acquisition_cost, bestseller_rank)
OUTCOMES: dict[tuple[int, int], tuple[float, float, float, int]] = {
    (1, 1): (15_000_000, 12.5, 45.50, 3),
    (1, 2): (22_000_000, 18.3, 38.20, 1),
    (1, 3): (8_500_000, 8.7, 52.30, 7),
    (2, 1): (16_500_000, 13.2, 42.80, 2),
    (2, 2): (24_500_000, 19.8, 35.60, 1),
    (2, 3): (9_200_000, 9.4, 48.90, 5),
}


def _period(project_id: int) -> pd.Timestamp:
    return pd.Timestamp(PROJECTS[project_id][1])


def _stamp(project_id: int) -> pd.Timestamp:
    return loaded_at(pd.DatetimeIndex([_period(project_id)]), GRAIN)[0]


def techcorp_metric_id(project_id: int, section: str) -> int:
    """Metric ids 1..12: four per project, in SECTIONS order."""
    return (project_id - 1) * len(SECTIONS) + SECTIONS.index(section) + 1


def techcorp_tables() -> dict[str, pd.DataFrame]:
    """All seven source tables of the fixture, columns `SOURCE_COLUMNS` + created_at/updated_at."""
    first = _stamp(1) - pd.DateOffset(months=3)
    categories = pd.DataFrame(
        [
            dict(
                category_id=CATEGORY_ID,
                category_name=CATEGORY_NAME,
                parent_category_id=None,
                description="TechCorp Inc. consumer electronics brands",
                created_at=first,
                updated_at=first,
            )
        ]
    ).astype({"parent_category_id": "Int64"})
    projects = pd.DataFrame(
        [
            dict(
                project_id=pid,
                project_name=name,
                description=f"TechCorp Inc. {name}",
                category_id=CATEGORY_ID,
                series_group=SERIES_GROUP,
                period_grain=GRAIN,
                start_date=_period(pid),
                end_date=_period(pid),
                status="completed",
                created_at=_stamp(pid) - pd.DateOffset(months=3),
                updated_at=_stamp(pid),
            )
            for pid, (name, _) in PROJECTS.items()
        ]
    )
    brands = pd.DataFrame(
        [
            dict(
                brand_id=bid,
                brand_name=name,
                category_id=CATEGORY_ID,
                brand_type=role,
                is_active=True,
                created_at=first,
                updated_at=first,
            )
            for bid, (name, role) in BRANDS.items()
        ]
    )
    project_brands = pd.DataFrame(
        [
            dict(
                project_id=pid,
                brand_id=bid,
                role=role,
                weight=1.0,
                created_at=_stamp(pid) - pd.DateOffset(months=3),
                updated_at=_stamp(pid) - pd.DateOffset(months=3),
            )
            for pid in PROJECTS
            for bid, (_, role) in BRANDS.items()
        ]
    )
    metrics = pd.DataFrame(
        [
            dict(
                metric_id=techcorp_metric_id(pid, section),
                project_id=pid,
                metric_name=name,
                display_name=f"{section} Index",
                unit="index",
                section_name=section,
                platform_name=PLATFORM,
                metric_type="maximize",
                weight=1.0,
                effort_cost=1.0,
                is_active=True,
                created_at=_stamp(pid) - pd.DateOffset(months=3),
                updated_at=_stamp(pid) - pd.DateOffset(months=3),
            )
            for pid in PROJECTS
            for section, name in SECTION_METRIC_NAMES.items()
        ]
    )
    values = pd.DataFrame(
        [
            dict(
                project_id=pid,
                brand_id=bid,
                metric_id=techcorp_metric_id(pid, section),
                period=_period(pid),
                normalized_value=score,
                raw_value=np.nan,
                section=section,
                source=VALUE_SOURCE,
                created_at=_stamp(pid),
                updated_at=_stamp(pid),
            )
            for (pid, bid), scores in SECTION_SCORES.items()
            for section, score in zip(SECTIONS, scores)
        ]
    )
    values.insert(0, "id", np.arange(1, len(values) + 1, dtype=np.int64))
    outcomes = pd.DataFrame(
        [
            dict(
                project_id=pid,
                brand_id=bid,
                period=_period(pid),
                revenue=float(rev),
                market_share=share,
                customer_acquisition_cost=cac,
                bestseller_rank=rank,
                **{c: np.nan for c in OUTCOME_COLUMNS[4:]},
                currency="USD",
                created_at=_stamp(pid),
                updated_at=_stamp(pid),
            )
            for (pid, bid), (rev, share, cac, rank) in OUTCOMES.items()
        ]
    )
    outcomes = outcomes.astype({"bestseller_rank": "Int64", "sales_units": "Int64"})
    tables = dict(
        categories=categories,
        projects=projects,
        brands=brands,
        project_brands=project_brands,
        metrics=metrics,
        normalisedvalue=values,
        business_outcomes=outcomes,
    )
    for name, df in tables.items():
        for col in ("period", "start_date", "end_date"):
            if col in df:
                df[col] = df[col].astype("datetime64[ns]")
        tables[name] = df[[*SOURCE_COLUMNS[name], "created_at", "updated_at"]]
    return tables
