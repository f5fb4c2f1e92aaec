"""Builds a report's envelope from the stored tables: the one path the report assets, the ad-hoc job, the CLI and
the canary share (SPEC §7). It reads exactly what the report's builder needs."""

from dc_pipeline.adapters import readers
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


def _versions_read(conn, needs: frozenset[str], timeline: list[int], project_id: int) -> dict[str, str]:
    tables = {"dc_core.dc_scores": timeline, "dc_dq.dq_scores": [project_id]}
    if "outcomes" in needs:
        tables["dc_core.validated_outcomes"] = timeline
    for need, asset in INPUT_ASSETS.items():
        if need in needs and need not in ("scores", "dq", "metrics", "outcomes", "refresh"):
            tables.update({f"{s}": [project_id] for s in readers.qualified_tables(asset)})
    return readers.read_data_versions(conn, tables)


def load_report_data(conn, report_id: str, project_id: int, reference: Reference):
    """ReportData of one project with the inputs the report needs, and the data versions of the rows read."""
    from dc_pipeline.domain.reports.data import report_data_from_frames

    needs = REPORT_NEEDS[report_id] | ALWAYS
    timeline, members = reference.timeline(project_id), reference.members(project_id)
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
        scores=readers.read_dc_scores(conn, timeline, members),
        dq=readers.read_dq_summary(conn, project_id),
        **{name: read() for name, read in optional.items() if name in needs},
    )
    return data, _versions_read(conn, needs, timeline, project_id)


def report_envelope(
    conn, report_id: str, project_id: int, reference: Reference, params: ReportParams, system: SystemConfig
) -> tuple[dict, dict[str, str]]:
    """The report's envelope for one project (member brands over its time line) and the data versions it read."""
    from dc_pipeline.domain.reports.context import AnalysisSettings
    from dc_pipeline.domain.reports.framework import build_report
    from dc_pipeline.domain.reports.registry import builder_for

    data, versions = load_report_data(conn, report_id, project_id, reference)
    settings = AnalysisSettings(system.analysis_config.min_data_points, system.random_seed)
    return build_report(builder_for(report_id), data, params, settings=settings), versions
