"""Every asset job, in one place: what a run over the asset graph selects (SPEC §0, §11)."""

import dagster as dg

from dc_pipeline.defs.partitions import projects_partitions

_REFERENCE = dg.AssetSelection.assets("reference_snapshot")

reference_job = dg.define_asset_job(
    "reference_job",
    selection=_REFERENCE,
    description="Refresh the reference snapshot and register new project and brand partitions.",
)

# Everything partitioned by project, from the SQL pulls to the reports.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("sources", "quality", "scoring", "reports") - _REFERENCE,
    description="Pull, validate, score and report the selected project partitions.",
)

# Sources to DC scores without the reports: what the scoring benchmark and backfills of scores run.
scoring_job = dg.define_asset_job(
    "scoring_job",
    selection=dg.AssetSelection.groups("sources", "quality", "scoring") - _REFERENCE,
    description="Pull, validate and score the selected project partitions (no reports).",
)

api_job = dg.define_asset_job(
    "api_job",
    # The SQL pulls it compares with come along: API names resolve to metric ids through src_metrics, and the
    # reconciliation needs the current Postgres values of the same partition.
    selection=dg.AssetSelection.groups("api_sources")
    | dg.AssetSelection.assets("src_metrics", "src_normalised_values"),
    partitions_def=projects_partitions,
    description="Pull the Digi-Cadence API for the selected project and reconcile it with Postgres. "
    "Not part of ingest_job: an API outage never stops scoring and reports.",
)

models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.assets("outcome_models", "index_robustness"),
    description="Tune the score->outcome models and compute index robustness for the selected projects.",
)

brand_models_job = dg.define_asset_job(
    "brand_models_job",
    selection=dg.AssetSelection.assets("brand_forecasts", "brand_recommendations"),
    description="Forecasts and GA recommendations for the selected (project, brand) pairs; untracked pairs "
    "succeed at once with no rows.",
)

ASSET_JOBS = [reference_job, ingest_job, scoring_job, api_job, models_job, brand_models_job]
