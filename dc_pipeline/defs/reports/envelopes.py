"""Builds a report's envelope from the stored tables: the one path the report assets, the ad-hoc job, the CLI and
the canary share (SPEC §7). It reads exactly what the report's builder needs."""

import copy
from collections.abc import Callable

from dc_pipeline.adapters import readers
from dc_pipeline.domain.memo import remembered
from dc_pipeline.domain.reference import Reference
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.settings import SystemConfig

# ReportData input -> the asset that stores it (the report asset depends on these).
INPUT_ASSETS = {
    "scores": "dc_scores",
    "dq": "dq_results",
    "metrics": "src_metrics",
    "outcomes": "validated_outcomes",
    "outcome_models": "outcome_models",
    "forecasts": "brand_forecasts",
    "recommendations": "brand_recommendations",
    "robustness": "index_robustness",
    "portfolio": "portfolio_analysis",
    "refresh": "dc_scores",  # its rank_history, recorded by the refresh that wrote the scores
}
# Every report reads the scores and the DQ of its project.
ALWAYS = frozenset({"scores", "dq"})


def input_assets(report_id: str) -> list[str]:
    # A need without a stored asset yet (e.g. "portfolio" before SPEC §8's allocation is stored) adds no dep.
    return sorted({INPUT_ASSETS[need] for need in REPORT_NEEDS[report_id] | ALWAYS if need in INPUT_ASSETS})


def _versions_read(conn, needs: frozenset[str], timeline: list[int], project_id: int, memo) -> dict[str, str]:
    tables = {"dc_core.dc_scores": timeline, "dc_dq.dq_scores": [project_id]}
    if "outcomes" in needs:
        tables["dc_core.validated_outcomes"] = timeline
    for need, asset in INPUT_ASSETS.items():
        if need in needs and need not in ("scores", "dq", "metrics", "outcomes", "refresh"):
            tables.update({f"{s}": [project_id] for s in readers.qualified_tables(asset)})
    versions: dict[str, str] = {}
    for table, ids in tables.items():
        key = ("versions", table, tuple(ids))
        versions.update(_read_once(memo, key, lambda t=table, i=ids: readers.read_data_versions(conn, {t: i})))
    return dict(sorted(versions.items()))


# What the reports of one run read, read once: every report of a project reads the same scores and DQ, most the
# same outcomes, and the report steps of a run execute one after another in its process. A report reads only
# assets it depends on, so within a run nothing it reads is rewritten after the first read (an upstream step of the
# same run, as in ingest_job, has finished before any report step reading it starts). A new run starts empty, so
# nothing read for one run reaches another. Besides the reads: each project's inputs cut to it (`cuts` of
# report_data_from_frames) and the views its reports derive from them (`views` of build_report).
_RUN_READS: dict = {"run": None, "values": {}}


def _run_memo(shared_key: str | None) -> dict | None:
    """The memo of the run `shared_key` (None: no sharing); a new run replaces the previous run's."""
    if shared_key is None:
        return None
    if _RUN_READS["run"] != shared_key:
        _RUN_READS.update(run=shared_key, values={})
    return _RUN_READS["values"]


def _read_once(memo: dict | None, key: tuple, read: Callable):
    """`read()`, once per run when given the run's memo. The value is shared: reports see the frames only through
    the copies report_data_from_frames hands each report."""
    return read() if memo is None else remembered(memo, key, read)


def shared_reference(conn, shared_key: str | None) -> Reference:
    """The last materialized reference snapshot, read once per `shared_key` (run id) like the report inputs (a
    copy per call: the report steps hand it on)."""
    return copy.deepcopy(_read_once(_run_memo(shared_key), ("reference",), lambda: readers.read_reference(conn)))


def load_report_data(
    conn, report_id: str, project_id: int, reference: Reference, shared_key: str | None = None
) -> tuple:
    """ReportData of one project with the inputs the report needs, the data versions of the rows read, and the
    views memo its reports share (None without `shared_key`). Reports called with the same `shared_key` (the run
    id) share their reads, cuts and views (see _RUN_READS)."""
    from dc_pipeline.domain.reports.data import report_data_from_frames

    needs = REPORT_NEEDS[report_id] | ALWAYS
    memo = _run_memo(shared_key)
    timeline, members = _read_once(
        memo, ("scope", project_id), lambda: (reference.timeline(project_id), reference.members(project_id))
    )
    scope = (project_id, tuple(timeline), tuple(members))
    optional = {
        "metrics": lambda: readers.read_metric_definitions(conn, timeline),
        "outcomes": lambda: readers.read_validated_outcomes(conn, timeline, members),
        "outcome_models": lambda: readers.read_outcome_model_results(conn, project_id),
        "forecasts": lambda: readers.read_asset_tables(conn, "brand_forecasts", [project_id], members),
        "recommendations": lambda: readers.read_asset_tables(conn, "brand_recommendations", [project_id], members),
        "robustness": lambda: readers.read_asset_tables(conn, "index_robustness", [project_id]),
        "portfolio": lambda: readers.read_asset_tables(conn, "portfolio_analysis", [project_id]),
        "refresh": lambda: readers.read_refresh_history(conn, "dc_scores", [project_id]),
    }
    data = report_data_from_frames(
        project_id,
        projects=reference.projects,
        project_brands=reference.project_brands,
        brands=reference.brands,
        scores=_read_once(memo, ("scores", *scope), lambda: readers.read_dc_scores(conn, timeline, members)),
        dq=copy.deepcopy(_read_once(memo, ("dq", *scope), lambda: readers.read_dq_summary(conn, project_id))),
        **{name: _read_once(memo, (name, *scope), read) for name, read in optional.items() if name in needs},
        cuts=None if memo is None else memo.setdefault(("cuts", *scope), {}),
    )
    views = None if memo is None else memo.setdefault(("views", *scope), {})
    return data, _versions_read(conn, needs, timeline, project_id, memo), views


def report_envelope(
    conn,
    report_id: str,
    project_id: int,
    reference: Reference,
    params: ReportParams,
    system: SystemConfig,
    shared_key: str | None = None,
) -> tuple[dict, dict[str, str]]:
    """The report's envelope for one project (member brands over its time line) and the data versions it read;
    calls with the same `shared_key` (a run id) read each input once and share the views derived from them."""
    from dc_pipeline.domain.reports.context import AnalysisSettings
    from dc_pipeline.domain.reports.framework import build_report
    from dc_pipeline.domain.reports.registry import builder_for

    data, versions, views = load_report_data(conn, report_id, project_id, reference, shared_key)
    settings = AnalysisSettings(system.analysis_config.min_data_points, system.random_seed)
    return build_report(builder_for(report_id), data, params, settings=settings, views=views), versions
