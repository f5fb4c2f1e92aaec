"""Builds a report's envelope from the stored tables: the one path the report assets, the ad-hoc job and the
canary share (SPEC §7)."""

from dc_pipeline.adapters import readers
from dc_pipeline.domain.reference import Reference
from dc_pipeline.domain.reports.context import AnalysisSettings
from dc_pipeline.domain.reports.data import report_data_from_frames
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import builder_for
from dc_pipeline.domain.settings import SystemConfig


def report_envelope(
    conn, report_id: str, project_id: int, reference: Reference, params: ReportParams, system: SystemConfig
) -> tuple[dict, dict[str, str]]:
    """The report's envelope for one project (member brands over its time line) and the data versions it read.
    Reads scores, metric definitions and DQ; the model inputs a builder `needs` are wired in a later step."""
    builder = builder_for(report_id)
    timeline = reference.timeline(project_id)
    data = report_data_from_frames(
        project_id,
        projects=reference.projects,
        project_brands=reference.project_brands,
        brands=reference.brands,
        scores=readers.read_dc_scores(conn, timeline, reference.members(project_id)),
        metrics=readers.read_metric_definitions(conn, timeline),
        dq=readers.read_dq_summary(conn, project_id),
    )
    envelope = build_report(
        builder, data, params, settings=AnalysisSettings(system.analysis_config.min_data_points, system.random_seed)
    )
    versions = readers.read_data_versions(conn, {"dc_core.dc_scores": timeline, "dc_dq.dq_scores": [project_id]})
    return envelope, versions
