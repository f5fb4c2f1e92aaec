"""The work `dc-pipeline demo` does, as stages of runs batched by partition range (the same plan with or without
the UI).

A stage is one job over a list of batches; a batch is one run: unpartitioned, one partition, or a range of
consecutive partitions (`dagster/asset_partition_range_start|end` tags), which the assets process in one pass
(their BackfillPolicy.multi_run says the same). Ranges are cut into at most `workers` slices so that two runs use
the two cores (the model stages into twice as many, since their cost is uneven), and a project's pairs always
stay in one run: the forecasts tune one study per project and series for all its brands
(domain/forecasting/project_tuning.py), which two runs must not tune at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dc_pipeline.domain.partition_keys import consecutive_slices

# The demo tunes with a small budget (about 70 s on 2 cores, README); set these (shell or .env) to override. They
# reach the UI's run workers: dagster dev gets the demo's environment (ui_launch.py).
DEMO_TUNING = {"OPTUNA_N_TRIALS": "5", "OPTUNA_TIMEOUT": "60", "OPTUNA_N_JOBS": "1"}
DEMO_MODEL_RUN_CONFIG = {"ops": {"outcome_models": {"config": {"bootstrap_reps": 100}}}}
PLAN_TAG = "dc/plan"  # on every run of a plan, so the UI filters them

# A project's work in a stage, in value rows' worth: its rows plus a fixed part per project. Measured on the demo
# (run timeline of `dc-pipeline demo --no-ui`): ingest_job about 1.4 s a project + 0.36 ms a row, model_reports_job
# about 3.7 s + 0.6 ms a row; portfolio_job (about 1 s a range) is taken as ingest_job's, not measured apart; the model
# stages grow with the rows (the long series tune, the short ones do not).
FIXED_ROWS = {"ingest_job": 4000, "portfolio_job": 4000, "model_reports_job": 6000}


@dataclass(frozen=True)
class Batch:
    keys: tuple[str, ...]  # what the run covers, as the progress line counts it (project or pair keys)
    tags: dict[str, str] = field(default_factory=dict)  # partition or range tags; none when unpartitioned
    partition_key: str | None = None  # a single partition, for execute_in_process


@dataclass(frozen=True)
class Stage:
    label: str
    job: str
    batches: tuple[Batch, ...]
    run_config: dict = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def single(key: str) -> Batch:
    return Batch((key,), {"dagster/partition": key}, key)


def key_range(keys: list[str], first: str, last: str) -> Batch:
    if first == last:
        return single(first)
    return Batch(tuple(keys), {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last})


def slices(
    keys: list[str], order: list[str], workers: int, weights: Mapping[str, float] | None = None
) -> list[list[str]]:
    """`keys` cut into at most `workers` ranges of consecutive partitions (domain/partition_keys.py), the heaviest
    first: a free worker then takes the lighter ones while the heavy ones run."""
    cut = consecutive_slices(keys, order, workers, weights)
    if weights is None:
        return cut
    return sorted(cut, key=lambda s: -sum(weights[k] for k in s))


def project_weights(job: str, keys: list[str], project_rows: Mapping[str, int] | None) -> dict[str, float] | None:
    """Each project's expected work in `job` (FIXED_ROWS), or None (equal slices) without row counts."""
    if project_rows is None:
        return None
    return {k: float(project_rows.get(k, 0) + FIXED_ROWS.get(job, 0)) for k in keys}


def reference_stage() -> Stage:
    return Stage("reference snapshot", "reference_job", (Batch(("reference",)),))


def api_stage(projects: list[str]) -> Stage:
    from dc_pipeline.defs.api.schedules import api_run_config, fail_fast_tags

    # The API pulls read one partition each: one run per project. Fail fast on an outage (no 60 s retries).
    return Stage(
        "API pull and reconciliation", "api_job", tuple(single(p) for p in projects), api_run_config(), fail_fast_tags()
    )


def project_stage(
    label: str,
    job: str,
    projects: list[str],
    order: list[str],
    workers: int,
    project_rows: Mapping[str, int] | None = None,
    **extra,
) -> Stage:
    """One run per slice of `projects`; with `project_rows` (value rows per project key), slices of even work."""
    weights = project_weights(job, projects, project_rows)
    batches = tuple(key_range(s, s[0], s[-1]) for s in slices(projects, order, workers, weights))
    return Stage(label, job, batches, **extra)


def pair_stage(
    projects: list[str],
    order: list[str],
    brands: list[str],
    workers: int,
    project_rows: Mapping[str, int] | None = None,
) -> Stage:
    """Every (project, brand) pair of the projects, members or not (a non-member succeeds at once as `not
    tracked`, so the UI shows no pair as missing): per slice of projects the box first brand..last brand."""
    batches = []
    for s in slices(projects, order, workers, project_weights("brand_models_job", projects, project_rows)):
        first = dg.MultiPartitionKey({"project": s[0], "brand": brands[0]})
        last = dg.MultiPartitionKey({"project": s[-1], "brand": brands[-1]})
        keys = tuple(str(dg.MultiPartitionKey({"project": p, "brand": b})) for p in s for b in brands)
        batches.append(
            Batch(keys, {ASSET_PARTITION_RANGE_START_TAG: str(first), ASSET_PARTITION_RANGE_END_TAG: str(last)})
        )
    return Stage("forecasts and recommendations (project x brand)", "brand_models_job", tuple(batches))


def evolution_stage() -> Stage:
    """cross_project_evolution: one unpartitioned run over every project."""
    return Stage("cross-project evolution", "evolution_job", (Batch(("evolution",)),))
