"""Every asset job, in one place: what a run over the asset graph selects (SPEC §0, §11).

Every job runs its steps in the run's own process (the project's default executor, definitions.py). A run
launched by the UI, a sensor or a schedule is one process that loads the code location (about 3 s on a quiet
machine, 7 to 8 s on a loaded one); the multiprocess executor would add one such process per step. Measured
through the daemon on the loaded 2-core machine, a models_job run for p1 (nothing to tune) took 43 s with its two
steps in processes of their own; the CPU-bound model steps of several projects use the two cores as two runs
side by side instead (the run queue runs two at a time, and the demo, backfills and sensors cut work into ranges).
"""

import dagster as dg

from dc_pipeline.domain.reports.catalog import REPORT_NEEDS, reads_only_data
from dc_pipeline.domain.reports.registry import BUILDER_MODULES

_REFERENCE = dg.AssetSelection.assets("reference_snapshot")
# What ingest_job computes besides the sources: quality, scores and the (cheap) index robustness, so every report
# reading only these is published by the ingest run; reports reading tuned models follow in reports_job.
_INGEST_REPORTS = [f"report_{r}" for r in BUILDER_MODULES if reads_only_data(r)]
# What the stages after ingest_job write: a report reading none of these was published by the ingest run from the
# same rows, so the demo's last stage does not build it again.
_MODEL_INPUTS = {"outcome_models", "forecasts", "recommendations", "portfolio"}
_MODEL_REPORTS = [f"report_{r}" for r in BUILDER_MODULES if REPORT_NEEDS[r] & _MODEL_INPUTS]

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
    # reconciliation needs the current Postgres values of the same partition. A pull fetches one project, so the
    # job runs one project per run (the smallest backfill policy of its assets; defs/__init__.py).
    selection=dg.AssetSelection.groups("api_sources")
    | dg.AssetSelection.assets("src_metrics", "src_normalised_values"),
    description="Pull the Digi-Cadence API for the selected project and reconcile it with Postgres. "
    "Not part of ingest_job: an API outage never stops scoring and reports.",
)

models_job = dg.define_asset_job(
    "models_job",
    selection=dg.AssetSelection.assets("outcome_models"),
    description="Tune the score->outcome models for the selected projects (index robustness comes with ingest_job, "
    "from the same scores).",
)

brand_models_job = dg.define_asset_job(
    "brand_models_job",
    selection=dg.AssetSelection.assets("brand_forecasts", "brand_recommendations"),
    description="Forecasts and GA recommendations for the selected (project, brand) pairs; untracked pairs "
    "succeed at once with no rows.",
)

portfolio_job = dg.define_asset_job(
    "portfolio_job",
    selection=dg.AssetSelection.assets("portfolio_analysis"),
    description="Cross-brand comparison, synergy and effort allocation for the selected projects, from their stored "
    "scores, plans and models (SPEC §8). Run after brand_models_job, before reports_job.",
)

evolution_job = dg.define_asset_job(
    "evolution_job",
    selection=dg.AssetSelection.assets("cross_project_evolution"),
    description="Every brand across the projects it belongs to: framework check, DC deltas and their value/mix "
    "split (SPEC §8).",
)

reports_job = dg.define_asset_job(
    "reports_job",
    selection=dg.AssetSelection.groups("reports"),
    description="Every report of the selected projects, from what is stored (scores, models, forecasts, plans).",
)

model_reports_job = dg.define_asset_job(
    "model_reports_job",
    selection=dg.AssetSelection.assets(*_MODEL_REPORTS),
    description="The reports that read tuned models, forecasts, plans, robustness or the portfolio, for the selected "
    "projects: what the demo publishes after the model stages (the other reports came with ingest_job).",
)

ASSET_JOBS = [
    reference_job,
    ingest_job,
    scoring_job,
    api_job,
    models_job,
    brand_models_job,
    portfolio_job,
    evolution_job,
    reports_job,
    model_reports_job,
]
