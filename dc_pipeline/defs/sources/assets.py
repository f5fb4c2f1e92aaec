"""Source tables as external assets, the reference snapshot, and per-project SQL pulls (SPEC §0)."""

from contextlib import contextmanager
from datetime import timedelta

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import postgres, source_reader
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.partitions import (
    brands_partitions,
    project_backfill_policy,
    projects_partitions,
    run_project_ids,
)
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.domain.change_detection import SOURCE_MARKER
from dc_pipeline.domain.operations.freshness import SOURCE_FRESHNESS_HOURS, SOURCE_WARN_HOURS
from dc_pipeline.domain.partition_keys import brand_key, project_key
from dc_pipeline.domain.reference import Reference
from dc_pipeline.domain.source_tables import SOURCE_DESCRIPTIONS

# Source pulls must be refreshed daily (SPEC §11); stale ones show in the UI and in `dc-pipeline status`.
SOURCE_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=SOURCE_FRESHNESS_HOURS), warn_window=timedelta(hours=SOURCE_WARN_HOURS)
)
SOURCE_GROUP = "digi_cadence_source"


def source_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["digi_cadence", table])


# External assets: written by Digi-Cadence, read only here. source_change_sensor observes their row counts.
source_tables = [
    dg.AssetSpec(
        key=source_key(table),
        group_name=SOURCE_GROUP,
        description=f"Digi-Cadence source table public.{table} (read only). {SOURCE_DESCRIPTIONS[table]}",
        metadata={"dagster/table_name": f"digi_cadence.public.{table}"},
        kinds={"postgres"},
    )
    for table in source_reader.REQUIRED_TABLES
]


@dg.asset(
    deps=[source_key(t) for t in source_reader.REFERENCE_TABLES],
    group_name="sources",
    metadata=stored_metadata("reference_snapshot"),
    kinds={"postgres"},
    pool="source_pg",
    freshness_policy=SOURCE_FRESHNESS,
)
def reference_snapshot(context: dg.AssetExecutionContext, source_db: PostgresResource) -> dict[str, pd.DataFrame]:
    """Projects, categories, brands and memberships; registers new project and brand partitions."""
    with _read_failure(), source_db.connection() as conn:
        source_reader.check_source_schema(conn)
        markers = {**source_reader.reference_markers(conn), "project_brands": source_reader.table_markers(
            conn, "project_brands")}  # fmt: skip
        reference = Reference.from_snapshot(source_reader.read_reference(conn))
    new_projects = _add_partitions(context, projects_partitions.name, map(project_key, reference.project_ids()))
    new_brands = _add_partitions(context, brands_partitions.name, map(brand_key, reference.brand_ids()))
    context.add_output_metadata(
        {
            "projects": len(reference.projects),
            "brands": len(reference.brands),
            "memberships": len(reference.project_brands),
            "new_project_partitions": ", ".join(new_projects) or "none",
            "new_brand_partitions": ", ".join(new_brands) or "none",
            SOURCE_MARKER: dg.MetadataValue.json(markers),
        }
    )
    return reference.as_snapshot()


@contextmanager
def _read_failure():
    """A source read that fails stops the run with its cause (table, column, value) as the Failure's
    description, not only "Error occurred while executing op"."""
    try:
        yield
    except (source_reader.SourceReadError, source_reader.SourceSchemaError, postgres.DatabaseError) as exc:
        raise dg.Failure(description=str(exc)) from exc


def _add_partitions(context: dg.AssetExecutionContext, name: str, keys) -> list[str]:
    existing = set(context.instance.get_dynamic_partitions(name))
    new = [k for k in keys if k not in existing]
    if new:
        context.instance.add_dynamic_partitions(name, new)
    return new


def _project_pull(table: str, asset_name: str, description: str):
    @dg.asset(
        name=asset_name,
        deps=[source_key(table)],
        partitions_def=projects_partitions,
        backfill_policy=project_backfill_policy,
        group_name="sources",
        metadata=stored_metadata(asset_name),
        kinds={"postgres"},
        pool="source_pg",
        freshness_policy=SOURCE_FRESHNESS,
        description=description,
    )
    def _pull(context: dg.AssetExecutionContext, source_db: PostgresResource) -> pd.DataFrame:
        project_ids = run_project_ids(context)
        with _read_failure(), source_db.connection() as conn:
            # Taken before the rows: a change in between shows as a newer marker, never as a missed one.
            markers = source_reader.table_markers(conn, table, project_ids)
            frame = source_reader.read_project_rows(conn, table, project_ids)
        for key, project_id in zip(context.partition_keys, project_ids):
            # What source_change_sensor compares with when it has no cursor of its own (defs/sources/sensors.py).
            marker = markers.get(str(project_id))  # None: the project has no rows in the table
            context.add_asset_metadata(
                {"rows": marker[1] if marker else 0, "max_updated_at": marker[0] if marker else "no rows",
                 SOURCE_MARKER: dg.MetadataValue.json({table: marker})},
                partition_key=key,
            )  # fmt: skip
        return frame

    return _pull


src_metrics = _project_pull("metrics", "src_metrics", "Metric definitions of the project (landed from public.metrics).")
src_normalised_values = _project_pull(
    "normalisedvalue",
    "src_normalised_values",
    "Normalized metric values of the project (landed from public.normalisedvalue).",
)
src_business_outcomes = _project_pull(
    "business_outcomes",
    "src_business_outcomes",
    "Business outcomes of the project (landed from public.business_outcomes).",
)
