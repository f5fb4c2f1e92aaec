"""Report assets, one per report id, partitioned by project (SPEC §7)."""

import time

import dagster as dg
import pandas as pd

from dc_pipeline.defs.automation import ON_UPSTREAM_CHANGE
from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.reports.envelopes import report_envelope
from dc_pipeline.defs.reports.publish import publish_report
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.partition_keys import project_id_of
from dc_pipeline.domain.reference import Reference
from dc_pipeline.domain.reports.envelope import check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline.domain.reports.params import parse_report_params

REPORT_ID = "dc_score_performance_analysis"


class ReportConfig(dg.Config):
    """Customization parameters (SPEC §7.1)."""

    analysis_depth: str = "standard"
    forecast_horizon: int = 12
    confidence_level: float | None = None
    include_visualizations: bool = True
    output_format: list[str] = ["json", "html", "markdown"]


def _report_checks(asset_name: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "envelope_schema_valid",
            asset=asset_name,
            blocking=True,
            description="The canonical JSON follows the §7.1 envelope.",
        ),
        dg.AssetCheckSpec(
            "insights_cite_numbers",
            asset=asset_name,
            blocking=True,
            description="Every number in an insight is a rounding of a cited figure whose path resolves.",
        ),
    ]


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    deps=["dc_scores", "dq_results"],
    group_name="reports",
    kinds={"html", "json", "markdown"},
    check_specs=_report_checks("report_dc_score_performance_analysis"),
    automation_condition=ON_UPSTREAM_CHANGE,
    description="Report 1, DC Score Performance Analysis: per-brand DC, tiers, ranks, gaps, statistics over "
    "periods, outliers, top contributions and shortfalls.",
)
def report_dc_score_performance_analysis(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    reference_snapshot: dict[str, pd.DataFrame],
    pipeline_db: PostgresResource,
    report_store: FolderResource,
    settings: SettingsResource,
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
            envelope, versions = report_envelope(
                conn, REPORT_ID, project_id_of(key), Reference.from_snapshot(reference_snapshot), params, system
            )
            schema_problems += [f"{key}: {p}" for p in check_envelope_schema(envelope)]
            citation_problems += [f"{key}: {p}" for p in check_insights_cite_numbers(envelope)]
            published = publish_report(
                context,
                conn,
                report_store.root(),
                envelope,
                partition=key,
                started=started,
                input_data_versions=versions,
                parameters=params.model_dump(mode="json"),
                output_formats=list(params.files_to_write),
                seed=system.random_seed,
            )
            metadata.update(
                published
                if len(context.partition_keys) == 1
                else {
                    f"{key}/{name}": value
                    for name, value in published.items()
                    if name in ("health", "confidence", "path_html")
                }
            )
    yield dg.Output(None, metadata=metadata)
    yield dg.AssetCheckResult(
        check_name="envelope_schema_valid",
        passed=not schema_problems,
        metadata={"problems": dg.MetadataValue.md("\n".join(schema_problems) or "none")},
    )
    yield dg.AssetCheckResult(
        check_name="insights_cite_numbers",
        passed=not citation_problems,
        metadata={"problems": dg.MetadataValue.md("\n".join(citation_problems) or "none")},
    )
