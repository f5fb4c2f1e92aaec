"""Validation, quarantine and data-quality scores per project (SPEC §5).

One multi-asset run per project partition (or batch of them): the pure rules (`domain.quality.assess_run`,
all projects of the run at once) decide;
this module lands the clean rows, the quarantine and the DQ tables, and turns the verdicts into
asset checks. ERROR checks are blocking, so a failing project never reaches `dc_scores` in the run.
"""

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import readers, source_reader
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.quality.checks import accounted_check, band_check, blocking_check, project_metadata
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.domain.partition_keys import project_id_of, project_key
from dc_pipeline.domain.quality import assess_run
from dc_pipeline.domain.quality.accounting import account_for_rows
from dc_pipeline.domain.quality.tables import counts_by_rule, dq_tables, rows_by_project
from dc_pipeline.domain.reference import Reference

VALIDATED_COLUMNS = [
    "id",
    "project_id",
    "brand_id",
    "metric_id",
    "period",
    "normalized_value",
    "raw_value",
    "source",
    "updated_at",
]
# Domain blocking verdicts (QualityAssessment.blocking) plus the row accounting done here.
DOMAIN_BLOCKING_CHECKS = ("clean_set_has_no_v1_v2_u1_violations", "quarantine_share_within_limit")
ACCOUNTING_CHECK = "every_row_accounted_for"
BLOCKING_CHECKS = DOMAIN_BLOCKING_CHECKS + (ACCOUNTING_CHECK,)


@dg.multi_asset(
    outs={
        "validated_values": dg.AssetOut(
            metadata=stored_metadata("validated_values"),
            kinds={"pandas", "postgres"},
            description="Typed, de-duplicated normalized values that passed every quarantine rule.",
        ),
        "validated_outcomes": dg.AssetOut(
            metadata=stored_metadata("validated_outcomes"),
            kinds={"pandas", "postgres"},
            description="Business outcomes with out-of-range cells nulled (and quarantined).",
        ),
        "validated_metrics": dg.AssetOut(
            metadata=stored_metadata("validated_metrics"),
            kinds={"pandas", "postgres"},
            description="The metric definitions scoring reads: active and passing V4 and U2 (a failing metric "
            "is excluded and its rows quarantined, SPEC §5).",
        ),
        "dq_results": dg.AssetOut(
            metadata=stored_metadata("dq_results"),
            kinds={"postgres"},
            description="Rule results, dimension scores, DQ score per project and brand, quarantine.",
        ),
    },
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    group_name="quality",
    check_specs=[
        dg.AssetCheckSpec(
            DOMAIN_BLOCKING_CHECKS[0],
            asset="validated_values",
            blocking=True,
            description="ERROR: the clean set has no V1, V2 or U1 violations.",
        ),
        dg.AssetCheckSpec(
            DOMAIN_BLOCKING_CHECKS[1],
            asset="validated_values",
            blocking=True,
            description="ERROR: quarantined share of the project's rows ≤ dq_config.quarantine_max_fraction.",
        ),
        dg.AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset="validated_values",
            blocking=True,
            description="ERROR: validated + quarantined value rows = landed rows, id for id.",
        ),
        dg.AssetCheckSpec(
            "dq_score_band", asset="dq_results", description="WARN when a project scores in band poor (< 0.6)."
        ),
        dg.AssetCheckSpec(
            "dq_brand_band", asset="dq_results", description="WARN when a (project, brand) scores in band poor (< 0.6)."
        ),
    ],
)
def validate_project(
    context: dg.AssetExecutionContext,
    reference_snapshot: dict[str, pd.DataFrame],
    src_metrics: pd.DataFrame,
    src_normalised_values: pd.DataFrame,
    src_business_outcomes: pd.DataFrame,
    settings: SettingsResource,
    pipeline_db: PostgresResource,
):
    config = settings.load().dq_config
    as_of = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    reference = Reference.from_snapshot(reference_snapshot)
    previous_counts = _previous_row_counts(context)
    with pipeline_db.connection() as conn:
        metric_owners = source_reader.metric_owners(conn)  # all projects', not only this run's
    project_ids = [project_id_of(key) for key in context.partition_keys]
    with pipeline_db.connection() as conn:
        api_inputs = {project_id: readers.read_api_landing(conn, project_id) for project_id in project_ids}
    # Every project of the run in one pass over its rows (rows are assigned by their project_id).
    run = assess_run(
        projects=pd.DataFrame([reference.project(project_id) for project_id in project_ids]),
        metrics=src_metrics,
        members=reference.project_brands,
        landed_values=src_normalised_values,
        landed_outcomes=src_business_outcomes,
        config=config,
        as_of=as_of,
        previous_row_counts=previous_counts,
        api_inputs=api_inputs,
        metric_owners=metric_owners,
    )
    results = run.by_project()
    landed_by_project = rows_by_project(src_normalised_values, project_ids)

    tables = dq_tables(
        results,
        asset_for_source={
            "normalisedvalue": "validated_values",
            "business_outcomes": "validated_outcomes",
            "metrics": "validated_values",
        },
    )
    accounting = {pid: account_for_rows(landed_by_project[pid], a.validated_values, a.quarantine) for pid, a in results}
    validated = pd.concat([a.validated_values[VALIDATED_COLUMNS] for _, a in results], ignore_index=True)
    outcomes = pd.concat([a.validated_outcomes for _, a in results], ignore_index=True)
    metrics = pd.concat([a.usable_metrics for _, a in results], ignore_index=True)
    yield dg.Output(
        validated, output_name="validated_values", metadata=project_metadata(results, accounting, tables["quarantine"])
    )
    yield dg.Output(outcomes, output_name="validated_outcomes", metadata={"rows": len(outcomes)})
    yield dg.Output(metrics, output_name="validated_metrics", metadata={"metrics": len(metrics)})
    yield dg.Output(tables, output_name="dq_results", metadata=_dq_metadata(tables))
    for check_name in DOMAIN_BLOCKING_CHECKS:
        yield blocking_check(check_name, results, tables["quarantine"])
    yield accounted_check(ACCOUNTING_CHECK, accounting)
    scores = tables["dq_scores"]
    yield band_check("dq_score_band", scores[scores["scope"] == "project"] if len(scores) else scores)
    yield band_check("dq_brand_band", scores[scores["scope"] == "brand"] if len(scores) else scores)


def _previous_row_counts(context: dg.AssetExecutionContext) -> dict[int, int]:
    """Landed row count per project at the last validation (rule W1)."""
    counts = {}
    for key in context.partition_keys:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("validated_values"), asset_partitions=[key]), limit=1
        ).records
        if not records:
            continue
        metadata = records[0].asset_materialization.metadata
        # Per-project count first: a batch run's `landed_rows` is the sum over its partitions.
        value = metadata.get(f"landed_rows/{key}") or (
            metadata.get("landed_rows") if len(context.partition_keys) == 1 else None
        )
        if value is not None:
            counts[project_id_of(key)] = int(value.value)
    return counts


def _dq_metadata(tables: dict[str, pd.DataFrame]) -> dict:
    scores = tables["dq_scores"]
    quarantine = tables["quarantine"]
    meta: dict = {"quarantined_rows": len(quarantine)}
    if len(scores):
        for row in scores[scores["scope"] == "project"].itertuples():
            meta[f"dq_score/{project_key(row.project_id)}"] = float(round(row.score, 4))
            meta[f"dq_band/{project_key(row.project_id)}"] = str(row.band)
        brands = scores[scores["scope"] == "brand"][["project_id", "brand_id", "score", "band"]].copy()
        brands["score"] = brands["score"].round(3)
        meta["brand_scores"] = dg.MetadataValue.md(brands.to_markdown(index=False) if len(brands) else "none")
    if len(quarantine):
        meta["quarantined_by_rule"] = dg.MetadataValue.json(counts_by_rule(quarantine))
    dims = tables["dq_dimension_scores"]
    if len(dims):
        dims = dims[dims["scope"] == "project"][["project_id", "dimension", "score", "units"]]
        meta["dimensions"] = dg.MetadataValue.md(dims.to_markdown(index=False))
    return meta
