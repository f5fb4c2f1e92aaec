"""Report assets, one per report id, partitioned by project (SPEC §7)."""


import time

import dagster as dg
import pandas as pd

from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.reports import inputs
from dc_pipeline.defs.reports.runtime import publish_report
from dc_pipeline.defs.resources import PostgresResource, ReportStoreResource, SettingsResource
from dc_pipeline.domain.partition_keys import project_id_of
from dc_pipeline.domain.reports.dc_score_performance import build_dc_score_performance_analysis
from dc_pipeline.domain.reports.envelope import check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline.domain.reports.params import parse_report_params
from dc_pipeline.domain.timeline import series_projects


class ReportConfig(dg.Config):
    """Customization parameters (SPEC §7.1)."""

    analysis_depth: str = "standard"
    forecast_horizon: int = 12
    confidence_level: float | None = None
    include_visualizations: bool = True
    output_format: list[str] = ["json", "html", "markdown"]


def _report_checks(asset_name: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec("envelope_schema_valid", asset=asset_name, blocking=True,
                          description="The canonical JSON follows the §7.1 envelope."),
        dg.AssetCheckSpec("insights_cite_numbers", asset=asset_name, blocking=True,
                          description="Every number in an insight is a rounding of a cited figure whose path resolves."),
    ]


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    deps=["dc_scores", "dq_results"],
    group_name="reports",
    kinds={"html", "json", "markdown"},
    check_specs=_report_checks("report_dc_score_performance_analysis"),
    automation_condition=dg.AutomationCondition.eager(),
    description="Report 1, DC Score Performance Analysis: per-brand DC, tiers, ranks, gaps, statistics over "
    "periods, outliers, top contributions and shortfalls.",
)
def report_dc_score_performance_analysis(
    context: dg.AssetExecutionContext, config: ReportConfig, reference_snapshot: dict[str, pd.DataFrame],
    pipeline_db: PostgresResource, report_store: ReportStoreResource, settings: SettingsResource,
):
    system = settings.load()
    raw_params = {k: v for k, v in config.model_dump().items() if v is not None}
    params = parse_report_params(raw_params, system.analysis_config)
    metadata: dict = {}
    schema_problems: list[str] = []
    citation_problems: list[str] = []
    with pipeline_db.connection() as conn:
        for key in context.partition_keys:
            started = time.perf_counter()
            envelope, versions = _dc_score_performance_envelope(conn, project_id_of(key), reference_snapshot,
                                                                params, system)
            schema_problems += [f"{key}: {p}" for p in check_envelope_schema(envelope)]
            citation_problems += [f"{key}: {p}" for p in check_insights_cite_numbers(envelope)]
            published = publish_report(context, conn, report_store.root(), envelope, partition=key, started=started,
                                       input_data_versions=versions, parameters=params.model_dump(mode="json"),
                                       output_formats=list(params.files_to_write), seed=system.random_seed)
            metadata.update(published if len(context.partition_keys) == 1
                            else {f"{key}/{name}": value for name, value in published.items()
                                  if name in ("health", "confidence", "path_html")})
    yield dg.Output(None, metadata=metadata)
    yield dg.AssetCheckResult(check_name="envelope_schema_valid", passed=not schema_problems,
                              metadata={"problems": dg.MetadataValue.md("\n".join(schema_problems) or "none")})
    yield dg.AssetCheckResult(check_name="insights_cite_numbers", passed=not citation_problems,
                              metadata={"problems": dg.MetadataValue.md("\n".join(citation_problems) or "none")})


def _dc_score_performance_envelope(conn, project_id: int, reference: dict[str, pd.DataFrame], params, system):
    """The report's envelope for one project and the data versions it read."""
    projects = reference["ref_projects"]
    project = projects[projects["project_id"] == project_id].iloc[0].to_dict()
    timeline = series_projects(projects, project_id)
    members = reference["ref_project_brands"]
    member_ids = set(members.loc[members["project_id"] == project_id, "brand_id"].astype(int))
    brand_names = {int(r.brand_id): r.brand_name for r in reference["ref_brands"].itertuples()}
    scores = inputs.read_scores(conn, timeline)
    scores = type(scores)(**{f: frame[frame["brand_id"].isin(member_ids)] if "brand_id" in frame else frame
                             for f, frame in vars(scores).items()})
    metrics = inputs.read_metrics(conn, timeline)
    envelope = build_dc_score_performance_analysis(
        scores, brand_names, project, params, dq=inputs.read_dq(conn, project_id),
        effort_costs={int(r.metric_id): float(r.effort_cost) for r in metrics.itertuples()},
        min_data_points=system.analysis_config.min_data_points)
    versions = inputs.data_versions(conn, {"dc_core.dc_scores": timeline, "dc_dq.dq_scores": [project_id]})
    return envelope, versions
