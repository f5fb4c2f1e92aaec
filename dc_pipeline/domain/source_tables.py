"""The Digi-Cadence source data model (SPEC §2): table names, columns, sections, outcomes.

One place for these names: the DDL, the demo generator, the loaders and the rules all read them
from here, so a column is spelled once.
"""

from __future__ import annotations

SECTIONS: tuple[str, ...] = ("Marketplace", "Digital Spends", "Organic Performance", "Socialwatch")

METRIC_TYPES: tuple[str, ...] = ("maximize", "minimize")

# Outcome column -> (lower bound, lower inclusive, upper bound or None). SPEC §2 "valid range".
OUTCOME_RANGES: dict[str, tuple[float, bool, float | None]] = {
    "revenue": (0.0, True, None),
    "market_share": (0.0, True, 100.0),
    "customer_acquisition_cost": (0.0, False, None),
    "bestseller_rank": (1.0, True, None),
    "conversion_rate": (0.0, True, 100.0),
    "sales_units": (0.0, True, None),
    "marketing_spend": (0.0, True, None),
    "customer_lifetime_value": (0.0, False, None),
    "brand_equity_index": (0.0, True, 100.0),
}
OUTCOME_COLUMNS: tuple[str, ...] = tuple(OUTCOME_RANGES)

# Column order of each source table as created by the DDL and written by the demo loader.
# created_at / updated_at exist on every table and are filled by the database when absent.
SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "categories": ("category_id", "category_name", "parent_category_id", "description"),
    "projects": (
        "project_id",
        "project_name",
        "description",
        "category_id",
        "series_group",
        "period_grain",
        "start_date",
        "end_date",
        "status",
    ),
    "brands": ("brand_id", "brand_name", "category_id", "brand_type", "is_active"),
    "project_brands": ("project_id", "brand_id", "role", "weight"),
    "metrics": (
        "metric_id",
        "project_id",
        "metric_name",
        "display_name",
        "unit",
        "section_name",
        "platform_name",
        "metric_type",
        "weight",
        "effort_cost",
        "is_active",
    ),
    "normalisedvalue": (
        "id",
        "project_id",
        "brand_id",
        "metric_id",
        "period",
        "normalized_value",
        "raw_value",
        "section",
        "source",
    ),
    "business_outcomes": ("project_id", "brand_id", "period", *OUTCOME_COLUMNS, "currency"),
}

# Load order respects the logical references (no FKs are declared, SPEC §2).
SOURCE_TABLES: tuple[str, ...] = tuple(SOURCE_COLUMNS)

# What each source table holds (SPEC §2), shown on its external asset in the UI.
SOURCE_DESCRIPTIONS: dict[str, str] = {
    "categories": "Brand categories (category_id, name, parent). Read into the reference snapshot.",
    "projects": "Projects: name, category, series group, period grain (month/quarter), start and end date, status "
    "(only active projects are pulled on schedule). Each project is a partition p<project_id>.",
    "brands": "Brands: name, category, type (primary/competitor/benchmark), active flag. Each brand is a partition "
    "b<brand_id> of the project x brand assets.",
    "project_brands": "Memberships: which brands a project tracks, with role and brand value weight. A project x brand "
    "pair that is not a membership is materialized as 'not tracked'.",
    "metrics": "Metric definitions per project: section, platform, name, maximize/minimize, weight and effort cost.",
    "normalisedvalue": "Normalized metric values 0-100 per project, brand, metric and period: the input of the DC "
    "score. No constraints are relied on; quality rules quarantine bad rows.",
    "business_outcomes": "Business outcomes per project, brand and period (revenue, market share, CAC, rank, "
    "conversion, units, spend, CLV, brand equity); every column may be null.",
}
