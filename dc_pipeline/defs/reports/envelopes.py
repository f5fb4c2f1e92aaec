"""Builds a report's envelope from the stored tables: the one path the report assets, the ad-hoc job and the
canary share (SPEC §7)."""

from dc_pipeline.adapters import readers
from dc_pipeline.domain.reference import Reference
from dc_pipeline.domain.reports.dc_score_performance import build_dc_score_performance_analysis
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.settings import SystemConfig


def report_envelope(
    conn, report_id: str, project_id: int, reference: Reference, params: ReportParams, system: SystemConfig
) -> tuple[dict, dict[str, str]]:
    """The report's envelope for one project (member brands over its time line) and the data versions it read."""
    if report_id != "dc_score_performance_analysis":
        raise KeyError(f"no builder for report {report_id!r}")
    timeline = reference.timeline(project_id)
    scores = readers.read_dc_scores(conn, timeline, reference.members(project_id))
    metrics = readers.read_metric_definitions(conn, timeline)
    envelope = build_dc_score_performance_analysis(
        scores,
        reference.brand_names,
        reference.project(project_id),
        params,
        dq=readers.read_dq_summary(conn, project_id),
        effort_costs={int(r.metric_id): float(r.effort_cost) for r in metrics.itertuples()},
        min_data_points=system.analysis_config.min_data_points,
    )
    versions = readers.read_data_versions(conn, {"dc_core.dc_scores": timeline, "dc_dq.dq_scores": [project_id]})
    return envelope, versions
