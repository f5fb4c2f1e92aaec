"""`api_reconciliation`: API values and weights against Postgres, per project (SPEC §3, rules K3/K4).

Rows on one side only, values differing by more than 0.01 and API weights differing from
`metrics.weight` are written to `dc_staging.api_reconciliation`; the WARN check
`api_matches_postgres` carries the counts and a few example keys.
"""

import dagster as dg
import pandas as pd

from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.api.session import API_BACKFILL_POLICY, API_GROUP
from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline.domain import api_mapping
from dc_pipeline.domain.partition_keys import project_id_of

VALUE_TOLERANCE = 0.01  # SPEC §5 K3 (values)
KINDS = ("only_api", "only_postgres", "value_differs", "weight_only_api", "weight_only_postgres", "weight_differs")
CHECK_NAME = "api_matches_postgres"


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=API_BACKFILL_POLICY,
    group_name=API_GROUP,
    metadata=stored_metadata("api_reconciliation"),
    kinds={"postgres"},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset="api_reconciliation",
            description="API values and weights agree with Postgres (K3 values, K4 weights)",
        )
    ],
    description="Differences between the API pulls and the Postgres source rows of the project.",
)
def api_reconciliation(
    context: dg.AssetExecutionContext,
    api_normalized_values: dict,
    api_weights: dict,
    src_normalised_values: pd.DataFrame,
    src_metrics: pd.DataFrame,
):
    project_id = project_id_of(context.partition_key)
    result = api_mapping.reconcile(
        project_id,
        api_normalized_values["api_normalized_values"],
        src_normalised_values,
        api_weights["api_weights"],
        src_metrics,
        value_tolerance=VALUE_TOLERANCE,
    )
    counts = {kind: result.count(kind) for kind in KINDS}
    examples = {kind: api_mapping.difference_examples(result.differences, kind) for kind in KINDS if counts[kind]}
    quarantined = len(api_normalized_values["api_normalized_values_quarantine"])
    metadata = {
        **{f"n_{kind}": n for kind, n in counts.items()},
        "n_api_keys": result.n_api_keys,
        "n_postgres_keys": result.n_postgres_keys,
        "n_common_keys": result.n_common_keys,
        "n_weights_compared": result.n_weights_compared,
        "api_records_quarantined": quarantined,
        "examples": dg.MetadataValue.json(examples),
    }
    yield dg.Output(result.differences, metadata=metadata)
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "no differences"
    yield dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=result.clean,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            **{f"n_{kind}": n for kind, n in counts.items()},
            "summary": summary,
            "examples": dg.MetadataValue.json(examples),
        },
        description=f"project {project_id}: {summary} over {result.n_common_keys} common keys",
    )
