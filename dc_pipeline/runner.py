"""Runs the pipeline on a real Dagster instance: used by `dc-pipeline demo` and by tests.

The instance stores runs, events and schedules in the `dagster` database (dagster-postgres),
on the same server as `digi_cadence`.
"""

from __future__ import annotations

import gc
import io
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.database_location import resolve_dagster_url

POOLS = {"source_pg": 2, "http_api": 2, "optuna": 2}
# Dagster writes the materializations of one output's partitions in one batch (an insert per batch instead of
# per partition: about 1 of 10 CPU s of a 1 M-row, 65-partition scoring run). docker/Dockerfile sets it too.
EVENT_BATCH_SIZE = "1000"

# In-process runs print only warnings; the full event log is in the instance (and the UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def prepare_instance(home: Path, source_url: str) -> dg.DagsterInstance:
    """DAGSTER_HOME with the project's dagster.yaml, storage in the `dagster` database."""
    home.mkdir(parents=True, exist_ok=True)
    template = resources.files("dc_pipeline.config").joinpath("dagster.yaml").read_text()
    (home / "dagster.yaml").write_text(template)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["DAGSTER_PG_URL"] = resolve_dagster_url(source_url)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    instance = dg.DagsterInstance.get()
    for pool, limit in POOLS.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
    return instance


@dataclass
class RunSummary:
    succeeded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _job(defs: dg.Definitions, name: str) -> dg.JobDefinition:
    return defs.resolve_job_def(name)


def run_reference(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    result = _job(defs, "reference_job").execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False)
    if not result.success:
        raise RuntimeError(f"reference_job failed: {_failure_text(result)}")


def project_keys(instance: dg.DagsterInstance) -> list[str]:
    return list(instance.get_dynamic_partitions("projects"))


def run_projects(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    keys: list[str],
    job_name: str = "ingest_job",
    batch_size: int = 1,
    run_config: dict | None = None,
    tags: dict | None = None,
) -> RunSummary:
    """Runs over project partitions. batch_size 1: one run per project, so a blocking failure stops
    only its own project. Larger: one run per consecutive slice of keys (a partition range), as a
    backfill with BackfillPolicy.multi_run does; `keys` must be in the partition order."""
    summary = RunSummary()
    job = _job(defs, job_name)
    config = {**QUIET, **(run_config or {})}
    for start in range(0, len(keys), max(1, batch_size)):
        chunk = keys[start : start + max(1, batch_size)]
        if len(chunk) == 1:
            result = job.execute_in_process(
                instance=instance, partition_key=chunk[0], run_config=config, tags=tags, raise_on_error=False
            )
        else:
            span = {ASSET_PARTITION_RANGE_START_TAG: chunk[0], ASSET_PARTITION_RANGE_END_TAG: chunk[-1]}
            result = _execute_uncaptured(job, instance, config, {**(tags or {}), **span})
        if result.success:
            summary.succeeded.extend(chunk)
        else:
            summary.failed.update({k: _failure_text(result) for k in chunk})
        # The result holds every output of the run (the batch's frames): not while the next run goes.
        del result
    return summary


def _execute_uncaptured(
    job: dg.JobDefinition, instance: dg.DagsterInstance, run_config: dict, tags: dict
) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process(...)` without its capture of every step output: that keeps each frame of a batch
    (landed, validated, scored) until the run ends, 0.8 GiB of a 0.8 M-row batch, where the IO manager lets go
    of a frame once its readers in the run have it. Runs launched by the daemon capture nothing either."""
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import core_execute_in_process, merge_run_tags

    ephemeral = job.as_ephemeral_job(resource_defs={}, input_values={}, op_selection=[], asset_selection=[])
    return core_execute_in_process(
        job=InMemoryJob(job_def=ephemeral),
        run_config=run_config,
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=False,
        run_tags=merge_run_tags(job, None, tags, [], instance, run_config),
        asset_selection=frozenset(),
    )


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            messages.append(f"{event.step_key}: {event.step_failure_data.error.message.strip().splitlines()[0]}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data  # an AssetCheckEvaluation in Dagster 1.13
            if not data.passed:
                messages.append(f"check {data.check_name} failed")
    return "; ".join(messages) or "run failed"


def latest_reports(source_url: str) -> list[tuple]:
    with postgres.connect(source_url) as conn:
        if not postgres.table_exists(conn, "dc_reports.report_index"):
            return []
        return conn.execute(
            "SELECT DISTINCT ON (project_id, report_id) project_id, report_id, health, paths "
            "FROM dc_reports.report_index ORDER BY project_id, report_id, generated_at DESC"
        ).fetchall()


def reset_home(home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)


# -- the demo's work plan (work_plan.py), in process or through the webserver and daemon ---------------------------
@dataclass
class StageResult:
    label: str
    runs: int
    seconds: float
    summary: RunSummary
    cpu_seconds: float = 0.0  # this process and its finished children (the forked workers): in-process runs only


def _cpu_seconds() -> float:
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def execute_batch(defs: dg.Definitions, instance: dg.DagsterInstance, stage, batch) -> tuple[bool, str]:
    """One batch of a stage as one run in this process: (succeeded, failure text)."""
    job = _job(defs, stage.job)
    config = {**QUIET, **stage.run_config}
    if batch.partition_key is not None:
        result = job.execute_in_process(
            instance=instance, partition_key=batch.partition_key, run_config=config, tags=stage.tags,
            raise_on_error=False,
        )  # fmt: skip
    else:
        tags = {**stage.tags, **batch.tags}
        result = job.execute_in_process(instance=instance, tags=tags, run_config=config, raise_on_error=False)
    return result.success, "" if result.success else _failure_text(result)


_FORKED: dict = {}


def _forked_batch(stage, batch) -> tuple[bool, str]:
    instance = dg.DagsterInstance.get()  # a worker of its own: the parent's connections stay the parent's
    try:
        return execute_batch(_FORKED["defs"], instance, stage, batch)
    finally:
        instance.dispose()


def preload_modules() -> None:
    """Import the report builders and the page renderer (scipy.stats, matplotlib and its font list, jinja2 and
    the compiled page template) and the model stages' modules (imported inside their assets, so that loading the
    code location stays light) in this process, once: forked workers then share them instead of each importing
    them at its first report or model (about 2 CPU seconds per worker and stage for the reports, 0.2 for the
    models)."""
    import dc_pipeline.adapters.optuna_storage
    import dc_pipeline.domain.forecasting.brands
    import dc_pipeline.domain.index_robustness
    import dc_pipeline.domain.outcome_models.project
    import dc_pipeline.domain.portfolio.evolution
    import dc_pipeline.domain.portfolio.project
    import dc_pipeline.domain.recommendations.project_tuning
    import dc_pipeline.domain.recommendations.tables  # noqa: F401
    from dc_pipeline.domain.reports.charts import draw
    from dc_pipeline.domain.reports.registry import all_builders
    from dc_pipeline.domain.reports.render import html

    all_builders()
    figure = draw._figure()  # selects the Agg backend; a title drawn to SVG loads the font list and the font
    figure.suptitle("preload")
    figure.savefig(io.StringIO(), format="svg")
    html._environment().get_template("report.html.j2")


@contextmanager
def frozen_heap():
    """Processes forked inside start with the parent's objects out of the garbage collector's reach (gc.freeze):
    their collections skip the inherited imports and definitions, and leave those memory pages shared instead of
    writing to them (a report worker drawing the 68 charts of the demo's largest project: 0.5 -> 0.1 CPU s in
    collections, 40k -> 17k page faults; bench_charts' cold pass).
    The parent's objects are collectable again afterwards (gc.unfreeze), so nothing leaks here."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


_PRELOAD: dict = {}  # the thread importing the modules of later stages while the first forked stage runs


def _await_preload() -> None:
    """Before a fork or an in-process run: the background import, if one runs, has finished (a fork must not
    split an import in half)."""
    thread = _PRELOAD.get("thread")
    if thread is not None:
        thread.join()


def _start_preload() -> None:
    """preload_modules in a background thread, once: the first forked stage (the API pulls, which need none of
    these modules) runs meanwhile instead of waiting the ~1.5 s it takes."""
    import threading

    if "thread" not in _PRELOAD:
        _PRELOAD["thread"] = threading.Thread(target=preload_modules, name="preload-modules")
        _PRELOAD["thread"].start()


def run_stage_in_process(defs: dg.Definitions, instance: dg.DagsterInstance, stage, workers: int = 2) -> RunSummary:
    """The stage's batches as in-process runs; with several batches, in `workers` forked processes that already
    hold the loaded definitions and, from the second forked stage on, the report and model modules (no
    code-location load per run, and both cores busy)."""
    _await_preload()
    if workers > 1 and len(stage.batches) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _FORKED["defs"] = defs
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(stage.batches)), mp_context=context) as pool:
            # With fork, the pool starts all its workers at the first submit: the preload starts after the forks.
            with frozen_heap():
                futures = [pool.submit(_forked_batch, stage, batch) for batch in stage.batches]
            _start_preload()
            outcomes = [future.result() for future in futures]
    else:
        outcomes = [execute_batch(defs, instance, stage, batch) for batch in stage.batches]
    summary = RunSummary()
    for batch, (ok, failure) in zip(stage.batches, outcomes):
        if ok:
            summary.succeeded.extend(batch.keys)
        else:
            summary.failed.update({k: failure for k in batch.keys})
    return summary


def project_value_rows(source_url: str) -> dict[str, int]:
    """normalisedvalue rows per project key: what the plan weighs its slices by."""
    from dc_pipeline.adapters.source_reader import table_markers
    from dc_pipeline.domain.partition_keys import project_key

    with postgres.connect(source_url) as conn:
        return {project_key(int(p)): int(n) for p, (_, n) in table_markers(conn, "normalisedvalue").items()}


def run_plan(
    instance: dg.DagsterInstance, run_stage, workers: int = 2, say=print, project_rows: dict[str, int] | None = None
) -> list[StageResult]:
    """Every stage of the demo (work_plan.py) with `run_stage(stage) -> RunSummary`, one progress line per stage;
    later stages cover only the projects that scored. With `project_rows` (project_value_rows) the other stages' ranges
    carry even work rather than even counts of projects, and the model stages run one project a run, heaviest first,
    so a free worker takes the next (their cost is uneven: 36 monthly periods tune, 6 do not); without, the model
    stages are cut in twice as many ranges as there are workers."""
    import time

    from dc_pipeline import work_plan

    results: list[StageResult] = []
    started = time.perf_counter()

    def stage_of(stage) -> RunSummary:
        t0, cpu0 = time.perf_counter(), _cpu_seconds()
        summary = run_stage(stage)
        seconds, cpu = time.perf_counter() - t0, _cpu_seconds() - cpu0
        results.append(StageResult(stage.label, len(stage.batches), seconds, summary, cpu))
        for key, reason in summary.failed.items():
            say(f"  {stage.label} {key}: FAILED: {reason}")
        total = len(summary.succeeded) + len(summary.failed)
        say(
            f"[{time.perf_counter() - started:5.1f} s] {stage.label}: {len(summary.succeeded)} of {total} "
            f"partitions in {len(stage.batches)} run(s), {time.perf_counter() - t0:.1f} s"
        )
        return summary

    reference = stage_of(work_plan.reference_stage())
    if reference.failed:
        return results
    projects = project_keys(instance)
    # API first, so the quality rules K3/K4 reconcile against it; the Postgres path does not need it.
    stage_of(work_plan.api_stage(projects))
    label = "sources -> quality -> DC scores -> reports"
    ingest = stage_of(work_plan.project_stage(label, "ingest_job", projects, projects, workers, project_rows))
    scored = [k for k in projects if k in ingest.succeeded]
    model_pieces = len(scored) if project_rows is not None else 2 * workers
    if scored:
        stage_of(
            work_plan.project_stage(
                "outcome models", "models_job", scored, projects, model_pieces, project_rows,
                run_config=work_plan.DEMO_MODEL_RUN_CONFIG,
            )
        )  # fmt: skip
        brands = list(instance.get_dynamic_partitions("brands"))
        stage_of(work_plan.pair_stage(scored, projects, brands, model_pieces, project_rows))
        # The portfolio stage reads the stored plans and models; the reports then read all of it.
        stage_of(
            work_plan.project_stage("portfolio analysis", "portfolio_job", scored, projects, workers, project_rows)
        )
        stage_of(work_plan.evolution_stage())
        label = "reports from the stored models, plans and portfolio"
        # Only the reports reading what the model stages wrote: ingest_job published the others from the same rows.
        stage_of(work_plan.project_stage(label, "model_reports_job", scored, projects, workers, project_rows))
    return results


def record_validation(source_url: str, settings_path: str = "") -> str:
    """The canary (SPEC §11) on what the demo just materialized, logged in dc_ops as a validation of this code
    version, so code_version_sensor does not validate it again; returns the canary status."""
    from dc_pipeline.adapters import ops_log
    from dc_pipeline.defs.operations.canary import run_canary
    from dc_pipeline.defs.resources import SettingsResource
    from dc_pipeline.version import code_version

    with postgres.connect(source_url) as conn:
        canary = run_canary(conn, SettingsResource(config_path=settings_path).load(), depth="standard")
        result = {"status": canary.status, "seconds": canary.seconds, "problems": canary.problems,
                  "brands_checked": canary.brands_checked, "code_version": code_version()}  # fmt: skip
        ops_log.log_task(conn, "dc-pipeline demo", "canary", result, None)
        conn.commit()
    return canary.status
