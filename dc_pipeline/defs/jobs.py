"""Every asset job, in one place: what a run over the asset graph selects (SPEC §0, §11), and the executor that
fits it.

A run launched by the UI, a sensor or a schedule starts one process that loads the code location (about 3 s);
the multiprocess executor adds one more such process per step. Sequential or light jobs therefore run their
steps in the run's own process (the project's default executor, definitions.py); only the model jobs, whose two
heavy steps are independent, run them side by side on the two cores.
"""

import dagster as dg

from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.registry import BUILDER_MODULES

# Two CPU-bound steps at once: the machines this runs on have two cores (SPEC §10 pool `optuna` is 2 as well).
PARALLEL_STEPS = dg.multiprocess_executor.configured({"max_concurrent": 2})

_REFERENCE = dg.AssetSelection.assets("reference_snapshot")
# What ingest_job computes besides the sources: quality, scores and the (cheap) index robustness, so every report
# reading only these is published by the ingest run; reports reading tuned models follow in reports_job.
_INGEST_INPUTS = {"scores", "dq", "metrics", "outcomes", "robustness"}
_INGEST_REPORTS = [f"report_{r}" for r in BUILDER_MODULES if REPORT_NEEDS[r] <= _INGEST_INPUTS]

reference_job = dg.define_asset_job(
    "reference_job",
    selection=_REFERENCE,
    description="Refresh the reference snapshot and register new project and brand partitions.",
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("sources", "quality", "scoring") - _REFERENCE
    | dg.AssetSelection.assets("index_robustness", *_INGEST_REPORTS),
    description="Pull, validate and score the selected projects, with index robustness and the reports that read "
    "only these (the reports reading tuned models are in reports_job).",
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
    executor_def=PARALLEL_STEPS,
)

brand_models_job = dg.define_asset_job(
    "brand_models_job",
    selection=dg.AssetSelection.assets("brand_forecasts", "brand_recommendations"),
    description="Forecasts and GA recommendations for the selected (project, brand) pairs; untracked pairs "
    "succeed at once with no rows.",
    executor_def=PARALLEL_STEPS,
)

reports_job = dg.define_asset_job(
    "reports_job",
    selection=dg.AssetSelection.groups("reports"),
    description="Every report of the selected projects, from what is stored (scores, models, forecasts, plans).",
)

ASSET_JOBS = [reference_job, ingest_job, scoring_job, api_job, models_job, brand_models_job, reports_job]
