"""adhoc_report_job (SPEC §7): any subset of reports over chosen projects and brands with any parameters, through
the same code as the report assets; the files go under REPORTS_DIR/adhoc/<run id>/."""

import dagster as dg

from dc_pipeline.adapters import readers
from dc_pipeline.defs.reports.config import AdhocReportConfig, report_params
from dc_pipeline.defs.reports.publish import publish_reports
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.reports.catalog import REPORTS_BY_ID
from dc_pipeline.domain.reports.registry import BUILDER_MODULES


@dg.op(description="Builds and publishes the requested reports; one line of metadata per report with its link.")
def build_adhoc_reports(
    context: dg.OpExecutionContext,
    config: AdhocReportConfig,
    pipeline_db: PostgresResource,
    report_store: FolderResource,
    settings: SettingsResource,
) -> None:
    system = settings.load()
    params = report_params(config, system)
    report_ids = config.report_ids or list(BUILDER_MODULES)
    unknown = [r for r in report_ids if r not in REPORTS_BY_ID]
    unbuilt = [r for r in report_ids if r in REPORTS_BY_ID and r not in BUILDER_MODULES]
    if unknown or unbuilt:
        raise dg.Failure(
            description=(f"unknown report ids {unknown}; " if unknown else "")
            + (f"no builder yet for {unbuilt}; " if unbuilt else "")
            + f"choose from {', '.join(BUILDER_MODULES)}"
        )
    with pipeline_db.connection() as conn:
        reference = readers.read_reference(conn)
        missing = [p for p in config.project_ids if not reference.has_project(p)]
        if missing:
            raise dg.Failure(description=f"projects {missing} are not in the reference snapshot: run reference_job")
        project_ids = config.project_ids or reference.project_ids()
        published = publish_reports(
            conn, reference, report_ids, project_ids, params, system, report_store.root(),
            folder_prefix=f"adhoc/{context.run_id}", run_id=context.run_id,
        )  # fmt: skip
    lines = [
        f"- p{r.project_id} {r.report_id} [{r.health}]: {r.url(report_store.public_url) or r.latest('json')}"
        for r in published
    ]
    context.add_output_metadata(
        {"reports": len(published), "published": dg.MetadataValue.md("\n".join(lines) or "none")}
    )


@dg.job(description="Any reports over any projects and brands with any SPEC §7.1 parameters (see the op's config).")
def adhoc_report_job():
    build_adhoc_reports()
