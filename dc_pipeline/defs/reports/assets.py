"""The 25 report assets of SPEC §7, made from the catalog: one `report_<report_id>` per report that has a
builder, partitioned by project, depending on the assets its builder reads."""

import time

import dagster as dg

from dc_pipeline.defs.automation import ON_UPSTREAM_CHANGE
from dc_pipeline.defs.partitions import (
    project_backfill_policy,
    project_of_pair,
    projects_partitions,
    run_project_ids,
)
from dc_pipeline.defs.reports.config import ReportConfig, report_params
from dc_pipeline.defs.reports.envelopes import input_assets, report_envelope, shared_reference
from dc_pipeline.defs.reports.publish import PublishedReport, publish, report_metadata
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS, report_spec

PAIR_ASSETS = {"brand_forecasts", "brand_recommendations"}
CHECKS = {
    "envelope_schema_valid": "ERROR: the canonical JSON follows the §7.1 envelope.",
    "insights_cite_numbers": "ERROR: every number in an insight is a rounding of a cited figure whose path resolves.",
}
HEALTH_CHECK = "report_health"


def _dep(asset: str) -> dg.AssetDep:
    # Reports are per project; the brand-level models they read are mapped through the project dimension.
    return dg.AssetDep(asset, partition_mapping=project_of_pair) if asset in PAIR_ASSETS else dg.AssetDep(asset)


def _health_check(reports: list[PublishedReport]) -> dg.AssetCheckResult:
    """Non-blocking: fails as ERROR when a report is FAIL, as WARN when REVIEW; the reasons in the metadata."""
    worst = "FAIL" if any(r.health == "FAIL" for r in reports) else "REVIEW" if reports else "PASS"
    worst = worst if any(r.health != "PASS" for r in reports) else "PASS"
    return dg.AssetCheckResult(
        check_name=HEALTH_CHECK,
        passed=worst == "PASS",
        severity=dg.AssetCheckSeverity.ERROR if worst == "FAIL" else dg.AssetCheckSeverity.WARN,
        metadata={
            "health": worst,
            "reasons": dg.MetadataValue.md(
                "\n".join(
                    f"- p{r.project_id} {r.health}: {'; '.join(r.health_reasons)}"
                    for r in reports
                    if r.health != "PASS"
                )
                or "every report PASS"  # fmt: skip
            ),
        },
    )


def report_asset(report_id: str) -> dg.AssetsDefinition:
    spec = report_spec(report_id)
    asset_name = f"report_{report_id}"

    @dg.asset(
        name=asset_name,
        partitions_def=projects_partitions,
        backfill_policy=project_backfill_policy,
        # The reference snapshot is a dep, not an input: the steps of a run read it once (envelopes.shared_reference)
        # instead of loading it through the IO manager per step.
        deps=[dg.AssetDep("reference_snapshot"), *(_dep(a) for a in input_assets(report_id))],
        group_name="reports",
        kinds={"html", "json", "markdown"},
        check_specs=[
            *(
                dg.AssetCheckSpec(name, asset=asset_name, blocking=True, description=text)
                for name, text in CHECKS.items()
            ),
            dg.AssetCheckSpec(HEALTH_CHECK, asset=asset_name, description="FAIL is an error, REVIEW a warning."),
        ],
        automation_condition=ON_UPSTREAM_CHANGE,
        description=f"Report {spec.number}, {spec.title} ({spec.category}); reads "
        f"{', '.join(sorted(REPORT_NEEDS[report_id]))}. Opens as an HTML page from the `report` link.",
    )
    def _report(
        context: dg.AssetExecutionContext,
        config: ReportConfig,
        pipeline_db: PostgresResource,
        report_store: FolderResource,
        settings: SettingsResource,
    ):
        system = settings.load()
        params = report_params(config, system)
        published = []
        with pipeline_db.connection() as conn:
            reference = shared_reference(conn, context.run_id)
            for project_id in run_project_ids(context):
                started = time.perf_counter()
                envelope, versions = report_envelope(
                    conn, report_id, project_id, reference, params, system, shared_key=context.run_id
                )
                report = publish(
                    conn, report_store.root(), envelope, folder=f"p{project_id}", project_id=project_id,
                    run_id=context.run_id, started=started, input_data_versions=versions,
                    parameters=params.model_dump(mode="json"), output_formats=params.output_format,
                    seed=system.random_seed,
                )  # fmt: skip
                context.add_asset_metadata(
                    report_metadata(report, report_store.public_url), partition_key=f"p{project_id}"
                )
                published.append(report)
        yield dg.Output(None)
        for name in CHECKS:
            problems = [f"p{r.project_id}: {p}" for r in published for p in r.problems[name]]
            yield dg.AssetCheckResult(
                check_name=name,
                passed=not problems,
                metadata={"problems": dg.MetadataValue.md("\n".join(problems) or "none")},
            )
        yield _health_check(published)

    return _report


def report_assets() -> list[dg.AssetsDefinition]:
    """One asset per report that has a builder, in catalog order."""
    from dc_pipeline.domain.reports.catalog import REPORTS
    from dc_pipeline.domain.reports.registry import BUILDER_MODULES

    return [report_asset(spec.report_id) for spec in REPORTS if spec.report_id in BUILDER_MODULES]
