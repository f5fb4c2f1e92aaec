"""Where each asset's rows live (SPEC §0 "Storage"), stated once: the assets declare it as definition
metadata for the IO manager, and the readers find the same tables here.

An asset with `tables` writes a dict of frames (table name -> frame); without, one frame in a table named
after the asset. Every row carries the partition's key columns plus run_id and data_version.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dc_pipeline.domain.portfolio.tables import EVOLUTION_TABLES, PORTFOLIO_TABLES
from dc_pipeline.domain.reference import SNAPSHOT_TABLES
from dc_pipeline.domain.scoring import BRAND_COLUMNS, METRIC_COLUMNS, PLATFORM_COLUMNS, SECTION_COLUMNS, DcScores


@dataclass(frozen=True)
class Stored:
    schema: str
    tables: tuple[str, ...] = ()

    def metadata(self) -> dict:
        """Definition metadata the IO manager reads (`dc/schema`, `dc/tables`)."""
        return {"dc/schema": self.schema, **({"dc/tables": list(self.tables)} if self.tables else {})}

    def qualified(self, table: str) -> str:
        return f"{self.schema}.{table}"


DC_SCORE_FIELDS = {"brands": "dc_scores", "sections": "dc_section_scores", "platforms": "dc_platform_scores",
                   "metrics": "dc_metric_contributions"}  # fmt: skip
_DC_SCORE_COLUMNS = {"brands": BRAND_COLUMNS, "sections": SECTION_COLUMNS, "platforms": PLATFORM_COLUMNS,
                     "metrics": METRIC_COLUMNS}  # fmt: skip

STORED: dict[str, Stored] = {
    "reference_snapshot": Stored("dc_staging", tuple(SNAPSHOT_TABLES.values())),
    "src_metrics": Stored("dc_staging"),
    "src_normalised_values": Stored("dc_staging"),
    "src_business_outcomes": Stored("dc_staging"),
    "api_normalized_values": Stored(
        "dc_staging", ("api_normalized_values", "api_normalized_values_quarantine", "api_normalized_values_raw")
    ),
    "api_project_meta": Stored("dc_staging", ("api_project_meta", "api_project_metrics", "api_project_meta_raw")),
    "api_weights": Stored("dc_staging", ("api_weights", "api_weights_quarantine", "api_weights_raw")),
    "api_brand_data": Stored("dc_staging", ("api_brand_data", "api_brand_outcomes", "api_brand_data_raw")),
    "api_insights": Stored("dc_staging"),
    "api_analytics": Stored("dc_staging"),
    "api_reconciliation": Stored("dc_staging"),
    "validated_values": Stored("dc_core"),
    "validated_outcomes": Stored("dc_core"),
    "validated_metrics": Stored("dc_core"),
    "dq_results": Stored("dc_dq", ("dq_rule_results", "dq_dimension_scores", "dq_scores", "quarantine")),
    "dc_scores": Stored("dc_core", tuple(DC_SCORE_FIELDS.values())),
    "index_robustness": Stored(
        "dc_core",
        (
            "robustness_monte_carlo",
            "robustness_geometric",
            "robustness_loso",
            "robustness_driver",
            "robustness_weights",
            "robustness_correlations",
            "robustness_sobol",
        ),
    ),  # fmt: skip
    "outcome_models": Stored(
        "dc_models",
        ("outcome_model_results", "outcome_model_coefficients", "outcome_model_importance", "outcome_model_oof"),
    ),
    "brand_forecasts": Stored("dc_core", ("brand_forecasts", "brand_forecast_summaries", "brand_forecast_coherence")),
    "brand_recommendations": Stored("dc_core", ("brand_recommendation_plans", "brand_recommendation_summaries")),
    "portfolio_analysis": Stored("dc_core", PORTFOLIO_TABLES),
    "cross_project_evolution": Stored("dc_core", EVOLUTION_TABLES),
}


# Refresh stability (beyond the SPEC): the append-only history each rewrite of these assets' partitions adds to,
# in the same transaction (defs/refresh_history.py).
@dataclass(frozen=True)
class RefreshHistory:
    table: str  # schema.table of the history
    written: str  # the asset's table whose run_id says which refresh wrote the stored rows
    partition_columns: tuple[str, ...]  # the columns naming one partition's rows


REFRESH_HISTORY: dict[str, RefreshHistory] = {
    "dc_scores": RefreshHistory("dc_core.rank_history", "dc_scores", ("project_id",)),
    "brand_recommendations": RefreshHistory(
        "dc_core.plan_history", "brand_recommendation_summaries", ("project_id", "brand_id")
    ),
}


def asset_of_table(table: str) -> tuple[str, str] | None:
    """(asset, schema.table) of a stored table's name (e.g. `dq_scores` -> dq_results), None for an unknown one."""
    for asset, stored in STORED.items():
        if table in (stored.tables or (asset,)):
            return asset, stored.qualified(table)
    return None


def stored_metadata(asset_name: str) -> dict:
    return STORED[asset_name].metadata()


def scores_as_tables(scores: DcScores) -> dict[str, pd.DataFrame]:
    """The four DcScores frames as the dc_scores asset's tables."""
    return {table: getattr(scores, field) for field, table in DC_SCORE_FIELDS.items()}


def scores_from_tables(tables: dict[str, pd.DataFrame]) -> DcScores:
    """DcScores from the stored tables; a column stored nowhere yet (null in every row so far) reads as null."""
    frames = {}
    for field, table in DC_SCORE_FIELDS.items():
        frame = tables.get(table, pd.DataFrame())
        missing = [c for c in _DC_SCORE_COLUMNS[field] if c not in frame.columns]
        frames[field] = frame.assign(**{c: None for c in missing}) if missing else frame
    return DcScores(**frames)
