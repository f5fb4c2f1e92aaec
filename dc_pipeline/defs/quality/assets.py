"""Validation, quarantine and data-quality scores per project (SPEC §5)."""


import dagster as dg
import pandas as pd

from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.resources import SettingsResource
from dc_pipeline.domain.partition_keys import project_id_of
from dc_pipeline.domain.quality import assess_project

DQ_TABLES = ["dq_rule_results", "dq_dimension_scores", "dq_scores", "quarantine"]
VALIDATED_COLUMNS = ["id", "project_id", "brand_id", "metric_id", "period", "normalized_value", "raw_value", "source",
                     "updated_at"]
BLOCKING_CHECKS = ("clean_set_has_no_v1_v2_u1_violations", "quarantine_share_within_limit")


@dg.multi_asset(
    outs={
        "validated_values": dg.AssetOut(metadata={"dc/schema": "dc_core"}, kinds={"pandas", "postgres"},
                                        description="Typed, de-duplicated normalized values that passed every quarantine rule."),
        "validated_outcomes": dg.AssetOut(metadata={"dc/schema": "dc_core"}, kinds={"pandas", "postgres"},
                                          description="Business outcomes with out-of-range cells nulled (and quarantined)."),
        "dq_results": dg.AssetOut(metadata={"dc/schema": "dc_dq", "dc/tables": DQ_TABLES}, kinds={"postgres"},
                                  description="Rule results, dimension scores, DQ score per project and brand, quarantine."),
    },
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    group_name="quality",
    check_specs=[
        dg.AssetCheckSpec(BLOCKING_CHECKS[0], asset="validated_values", blocking=True,
                          description="The clean set has no V1, V2 or U1 violations."),
        dg.AssetCheckSpec(BLOCKING_CHECKS[1], asset="validated_values", blocking=True,
                          description="Quarantined share of the project's rows ≤ dq_config.quarantine_max_fraction."),
        dg.AssetCheckSpec("dq_score_band", asset="dq_results",
                          description="WARN when a project scores in band poor."),
    ],
)
def validate_project(context: dg.AssetExecutionContext, reference_snapshot: dict[str, pd.DataFrame],
                     src_metrics: pd.DataFrame, src_normalised_values: pd.DataFrame,
                     src_business_outcomes: pd.DataFrame, settings: SettingsResource):
    config = settings.load().dq_config
    as_of = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    projects = reference_snapshot["ref_projects"].set_index("project_id")
    members = reference_snapshot["ref_project_brands"]
    previous_counts = _previous_row_counts(context)
    results = []
    for key in context.partition_keys:
        project_id = project_id_of(key)
        assessment = assess_project(
            project=projects.loc[project_id].to_dict() | {"project_id": project_id},
            metrics=src_metrics[src_metrics["project_id"] == project_id],
            members=members[members["project_id"] == project_id],
            landed_values=src_normalised_values[src_normalised_values["project_id"] == project_id],
            landed_outcomes=src_business_outcomes[src_business_outcomes["project_id"] == project_id],
            config=config,
            as_of=as_of,
            other_project_metrics=src_metrics[src_metrics["project_id"] != project_id],
            known_metric_ids=set(src_metrics["metric_id"].astype(int)),
            previous_row_count=previous_counts.get(project_id),
        )
        results.append((project_id, assessment))

    validated = pd.concat([a.validated_values[VALIDATED_COLUMNS] for _, a in results], ignore_index=True)
    outcomes = pd.concat([a.validated_outcomes for _, a in results], ignore_index=True)
    dq_tables = {
        "dq_rule_results": _tagged(results, "rule_results"),
        "dq_dimension_scores": _tagged(results, "dimension_scores"),
        "dq_scores": _tagged(results, "dq_scores"),
        "quarantine": _quarantine(results, context),
    }
    landed = int(sum(len(src_normalised_values[src_normalised_values["project_id"] == pid]) for pid, _ in results))
    yield dg.Output(validated, output_name="validated_values",
                    metadata={"rows": len(validated), "landed_rows": landed})
    yield dg.Output(outcomes, output_name="validated_outcomes", metadata={"rows": len(outcomes)})
    yield dg.Output(dq_tables, output_name="dq_results", metadata=_dq_metadata(dq_tables))
    for check_name in BLOCKING_CHECKS:
        outcomes_by_project = {pid: next(b for b in a.blocking if b["check"] == check_name) for pid, a in results}
        failed = {pid: b for pid, b in outcomes_by_project.items() if not b["passed"]}
        yield dg.AssetCheckResult(
            check_name=check_name, asset_key="validated_values", passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "projects_failed": ", ".join(f"p{pid}" for pid in failed) or "none",
                "messages": dg.MetadataValue.md("\n".join(f"- p{pid}: {b['message']}" for pid, b in outcomes_by_project.items())),
                "rows": dg.MetadataValue.json({f"p{pid}": b.get("rows", [])[:10] for pid, b in failed.items()}),
            })
    scores = dq_tables["dq_scores"]
    project_scores = scores[scores["scope"] == "project"]
    poor = project_scores[project_scores["band"] == "poor"]
    yield dg.AssetCheckResult(
        check_name="dq_score_band", asset_key="dq_results", passed=poor.empty, severity=dg.AssetCheckSeverity.WARN,
        metadata={"poor_projects": ", ".join(f"p{int(p)}" for p in poor["project_id"]) or "none"})


def _previous_row_counts(context: dg.AssetExecutionContext) -> dict[int, int]:
    """Landed row count per project at the last successful validation (rule W1)."""
    counts = {}
    for key in context.partition_keys:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("validated_values"), asset_partitions=[key]), limit=1).records
        if records:
            value = records[0].asset_materialization.metadata.get("landed_rows")
            if value is not None:
                counts[project_id_of(key)] = int(value.value)
    return counts


def _tagged(results, field: str) -> pd.DataFrame:
    frames = [getattr(a, field).assign(project_id=pid) for pid, a in results]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _quarantine(results, context: dg.AssetExecutionContext) -> pd.DataFrame:
    frame = _tagged(results, "quarantine")
    if frame.empty:
        return frame
    frame["asset"] = "validated_values"
    frame["partition"] = "p" + frame["project_id"].astype(str)
    frame["detected_at"] = pd.Timestamp.now(tz="UTC")
    return frame


def _dq_metadata(tables: dict[str, pd.DataFrame]) -> dict:
    scores = tables["dq_scores"]
    meta: dict = {"quarantined_rows": len(tables["quarantine"])}
    project_scores = scores[scores["scope"] == "project"] if len(scores) else scores
    for row in project_scores.itertuples():
        meta[f"dq_score/p{int(row.project_id)}"] = float(round(row.score, 4))
        meta[f"dq_band/p{int(row.project_id)}"] = row.band
    if len(tables["quarantine"]):
        by_rule = tables["quarantine"].groupby("rule_id").size()
        meta["quarantined_by_rule"] = dg.MetadataValue.json({k: int(v) for k, v in by_rule.items()})
    if len(tables["dq_dimension_scores"]):
        dims = tables["dq_dimension_scores"]
        dims = dims[dims["scope"] == "project"][["project_id", "dimension", "score", "units"]]
        meta["dimensions"] = dg.MetadataValue.md(dims.to_markdown(index=False))
    return meta
