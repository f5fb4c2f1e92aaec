"""Jobs over the asset graph."""

import dagster as dg

reference_job = dg.define_asset_job(
    "reference_job",
    selection=dg.AssetSelection.assets("reference_snapshot"),
    description="Refresh the reference snapshot and register new project and brand partitions.",
)

# Everything partitioned by project, from the SQL pulls to the reports.
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("sources", "quality", "scoring", "reports")
    - dg.AssetSelection.assets("reference_snapshot"),
    description="Pull, validate, score and report the selected project partitions.",
)

# Sources to DC scores without the reports: what the scoring benchmark and backfills of scores run.
scoring_job = dg.define_asset_job(
    "scoring_job",
    selection=dg.AssetSelection.groups("sources", "quality", "scoring")
    - dg.AssetSelection.assets("reference_snapshot"),
    description="Pull, validate and score the selected project partitions (no reports).",
)
