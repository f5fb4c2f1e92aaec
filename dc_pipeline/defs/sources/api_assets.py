"""HTTP pulls from the Digi-Cadence API, per project (SPEC §0 asset table, §3).

Each asset returns DataFrames that the partition-aware IO manager writes to `dc_staging` (the
structured rows, the quarantined records and the raw JSON bodies it was built from). Names map to
ids through `reference_snapshot` and `src_metrics`. An API failure fails the asset with a
`dg.Failure` naming the service, the endpoint and what each base URL answered; nothing is written.
These assets sit in group `api_sources`, outside `ingest_job`, so an outage never stops the
Postgres path.
"""

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.adapters.api_cache_postgres import RecordedBody, RecordingCache
from dc_pipeline.adapters.api_client import (
    ApiAuthError,
    ApiClientError,
    ApiError,
    ApiNotFound,
    ApiResponseInvalid,
    DigiCadenceClient,
)
from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline.defs.sources.api_resource import DigiCadenceApiResource
from dc_pipeline.domain import api_mapping
from dc_pipeline.domain.partition_keys import project_id_of
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS

API_GROUP = "api_sources"
API_POOL = "http_api"
API_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL)
# Run tag that turns step retries off for an outage (interactive runs and tests fail at once).
FAIL_FAST_TAG = "dc/api_fail_fast"
_PROBLEM_INDEX = re.compile(r"^\[(\d+)\]")


class IngestConfig(dg.Config):
    """Run config of the API assets: `force_refresh` bypasses the response cache (SPEC §3)."""

    force_refresh: bool = False


# ----------------------------------------------------------------------------------- plumbing


@contextmanager
def api_session(
    context: dg.AssetExecutionContext,
    dc_api: DigiCadenceApiResource,
) -> Iterator[tuple[DigiCadenceClient, RecordingCache]]:
    """A client for one asset execution. ApiError -> dg.Failure with the client's counts; only an
    outage (retries exhausted, circuits open) is left to the step RetryPolicy."""
    recorder = RecordingCache()
    client = dc_api.client(recorder)
    try:
        yield client, recorder
    except ApiError as exc:
        permanent = isinstance(exc, (ApiAuthError, ApiClientError, ApiResponseInvalid))
        fail_fast = context.run.tags.get(FAIL_FAST_TAG) == "true"
        raise dg.Failure(
            description=f"{context.asset_key.to_user_string()} for {context.partition_key}: {exc}",
            metadata={
                **client_metadata(client),
                "service": exc.service,
                "endpoint": exc.endpoint,
                "http_status": exc.status if exc.status is not None else "none",
                "error": type(exc).__name__,
            },
            allow_retries=not (permanent or fail_fast),
        ) from None
    finally:
        client.close()


def client_metadata(client: DigiCadenceClient) -> dict:
    stats = client.stats()
    return {
        "api_requests": stats["requests"],
        "api_retries": stats["retries"],
        "api_failovers": stats["failovers"],
        "api_cache_hits": stats["cache_hits"],
        "api_transport_errors": stats["transport_errors"],
        "api_breaker_opens": stats["breaker_opens"],
        "api_breaker_half_opens": stats["breaker_half_opens"],
        "api_token_fetches": stats["token_fetches"],
        "api_responses_by_status": dg.MetadataValue.json(stats["responses_by_status"]),
        "api_breaker_states": dg.MetadataValue.json(stats["breaker_states"]),
    }


def raw_frame(project_id: int, bodies: list[RecordedBody]) -> pd.DataFrame:
    """The raw JSON bodies an asset was built from (SPEC §0: raw JSON kept in dc_staging)."""
    return pd.DataFrame(
        {
            "project_id": pd.Series([project_id] * len(bodies), dtype="int64"),
            "path": pd.Series([b.path for b in bodies], dtype=object),
            "params": pd.Series([b.params for b in bodies], dtype=object),
            "sha256": pd.Series([b.sha256 for b in bodies], dtype=object),
            "n_bytes": pd.Series([len(b.body) for b in bodies], dtype="int64"),
            "from_cache": pd.Series([b.from_cache for b in bodies], dtype=bool),
            "fetched_at": pd.Series(
                [datetime.fromtimestamp(b.fetched_at, tz=UTC) for b in bodies], dtype="datetime64[ns, UTC]"
            ),
            "body_json": pd.Series([b.body.decode("utf-8", errors="replace") for b in bodies], dtype=object),
        }
    )


def _api_asset(name: str, description: str, tables: list[str] | None = None, **kwargs):
    metadata = {"dc/schema": "dc_staging", **({"dc/tables": tables} if tables else {})}
    return dg.asset(
        name=name,
        description=description,
        partitions_def=projects_partitions,
        group_name=API_GROUP,
        pool=API_POOL,
        retry_policy=API_RETRY_POLICY,
        metadata=metadata,
        kinds={"api", "postgres"},
        **kwargs,
    )


def _project(reference: dict, project_id: int) -> dict:
    projects = reference["ref_projects"]
    row = projects[projects["project_id"] == project_id]
    if row.empty:
        raise dg.Failure(description=f"project {project_id} is not in reference_snapshot; run reference_job first")
    return row.iloc[0].to_dict()


def _typed(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """Empty frames keep their column types, so the landing tables get the right SQL types."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    return frame[list(dtypes)]


# ----------------------------------------------------------------------------------- assets


@_api_asset(
    "api_normalized_values",
    "Normalized values from GET /normalized/normalized_value, mapped to ids; "
    "unmappable records quarantined (unknown_brand, unknown_metric, period_missing).",
    tables=["api_normalized_values", "api_normalized_values_quarantine", "api_normalized_values_raw"],
)
def api_normalized_values(
    context: dg.AssetExecutionContext,
    config: IngestConfig,
    dc_api: DigiCadenceApiResource,
    reference_snapshot: dict,
    src_metrics: pd.DataFrame,
) -> dict:
    project_id = project_id_of(context.partition_key)
    project = _project(reference_snapshot, project_id)
    with api_session(context, dc_api) as (client, recorder):
        pull = client.normalized_values_checked(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        meta = client_metadata(client)
    bad_index = {int(m.group(1)) for p in pull.problems if (m := _PROBLEM_INDEX.match(p))}
    valid_index = [i for i in range(pull.n_received) if i not in bad_index]
    records = pd.DataFrame(
        [r.model_dump() for r in pull.records],
        columns=["metricname", "sectionName", "platformname", "brandName", "normalized", "period", "updated_at"],
    )
    records["record_index"] = valid_index[: len(records)]
    mapped, quarantine = api_mapping.map_normalized_records(
        records, project, reference_snapshot["ref_brands"], src_metrics
    )
    invalid = _invalid_records(project_id, pull.problems, bodies)
    quarantine = pd.concat([quarantine, invalid], ignore_index=True) if len(invalid) else quarantine
    counts = quarantine["rule_id"].value_counts().to_dict()
    context.add_output_metadata(
        {
            **meta,
            "records_received": pull.n_received,
            "records_mapped": len(mapped),
            "records_quarantined": len(quarantine),
            "quarantine_by_rule": dg.MetadataValue.json({str(k): int(v) for k, v in counts.items()}),
            "body_sha256": pull.sha256,
        }
    )
    return {
        "api_normalized_values": mapped,
        "api_normalized_values_quarantine": quarantine,
        "api_normalized_values_raw": raw_frame(project_id, bodies),
    }


def _invalid_records(project_id: int, problems: list[str], bodies: list[RecordedBody]) -> pd.DataFrame:
    """Schema violations are DQ failures, not crashes: one quarantine row per invalid field."""
    if not problems:
        return api_mapping.empty_quarantine()
    items = json.loads(bodies[-1].body) if bodies else []
    keys, payloads = [], []
    for problem in problems:
        match = _PROBLEM_INDEX.match(problem)
        index = int(match.group(1)) if match else None
        keys.append({"record_index": index})
        payloads.append(items[index] if index is not None and index < len(items) else {})
    return api_mapping.quarantine_rows(project_id, "invalid_record", [f"schema: {p}" for p in problems], keys, payloads)


@_api_asset(
    "api_project_meta",
    "Project metadata and metric definitions from GET /api/v1/project/get-project/.",
    tables=["api_project_meta", "api_project_metrics", "api_project_meta_raw"],
)
def api_project_meta(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource, reference_snapshot: dict
) -> dict:
    project_id = project_id_of(context.partition_key)
    project = _project(reference_snapshot, project_id)
    with api_session(context, dc_api) as (client, recorder):
        meta = client.project_meta(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    summary = pd.DataFrame(
        {
            "project_id": [project_id],
            "project_name": [meta.project_name],
            "description": [meta.description],
            "n_metrics": [len(meta.metrics)],
            "api_updated_at": pd.Series([meta.updated_at], dtype="datetime64[ns, UTC]"),
            "name_matches_reference": [meta.project_name == project["project_name"]],
        }
    )
    metrics = _typed(
        pd.DataFrame(
            {
                "project_id": [project_id] * len(meta.metrics),
                "api_metric_id": pd.array([m.metric_id for m in meta.metrics], dtype="Int64"),
                "section_name": [m.section.name for m in meta.metrics],
                "platform_name": [m.platform.name for m in meta.metrics],
                "metric_name": [m.metric_new_name for m in meta.metrics],
                "weight": [float(m.weights) for m in meta.metrics],
                "metric_type": [m.metric_type for m in meta.metrics],
            }
        ),
        {
            "project_id": "int64",
            "api_metric_id": "Int64",
            "section_name": object,
            "platform_name": object,
            "metric_name": object,
            "weight": "float64",
            "metric_type": object,
        },
    )
    context.add_output_metadata(
        {
            **stats,
            "metrics": len(meta.metrics),
            "name_matches_reference": bool(summary["name_matches_reference"].iloc[0]),
        }
    )
    return {
        "api_project_meta": summary,
        "api_project_metrics": metrics,
        "api_project_meta_raw": raw_frame(project_id, bodies),
    }


@_api_asset(
    "api_weights",
    "Metric weights from GET /weight_sum, mapped to metric ids (input of rule K4).",
    tables=["api_weights", "api_weights_quarantine", "api_weights_raw"],
)
def api_weights(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource, src_metrics: pd.DataFrame
) -> dict:
    project_id = project_id_of(context.partition_key)
    with api_session(context, dc_api) as (client, recorder):
        body = client.weight_sum(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    weights = pd.DataFrame([w.model_dump() for w in body.weights], columns=["section", "platform", "metric", "weight"])
    mapped, quarantine = api_mapping.map_weights(weights, project_id, src_metrics)
    listed_total = float(weights["weight"].sum())
    context.add_output_metadata(
        {
            **stats,
            "weights": len(weights),
            "weights_mapped": len(mapped),
            "weights_quarantined": len(quarantine),
            "weight_sum_total": float(body.weight_sum["total"]),
            "listed_weight_total": listed_total,
            "weight_sum_consistent": bool(np.isclose(listed_total, body.weight_sum["total"], atol=1e-6)),
        }
    )
    return {
        "api_weights": mapped,
        "api_weights_quarantine": quarantine,
        "api_weights_raw": raw_frame(project_id, bodies),
    }


BRAND_DTYPES = {
    "project_id": "int64",
    "brand_id": "int64",
    "status": object,
    "brand_name": object,
    "name_matches_reference": object,
    "category_id": "Int64",
    "category_name": object,
    "role": object,
    "detail": object,
}
OUTCOME_DTYPES = {
    "project_id": "int64",
    "brand_id": "int64",
    "period": "datetime64[ns]",
    **{c: "float64" for c in OUTCOME_COLUMNS},
}


@_api_asset(
    "api_brand_data",
    "Brand details and business outcomes of every member brand from "
    "GET /brands/{brand_id}/project_id/{project_id} (outcomes feed rule K3).",
    tables=["api_brand_data", "api_brand_outcomes", "api_brand_data_raw"],
)
def api_brand_data(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource, reference_snapshot: dict
) -> dict:
    project_id = project_id_of(context.partition_key)
    _project(reference_snapshot, project_id)
    pb = reference_snapshot["ref_project_brands"]
    members = sorted(int(b) for b in pb.loc[pb["project_id"] == project_id, "brand_id"])
    names = reference_snapshot["ref_brands"].set_index("brand_id")["brand_name"]

    def fetch(client: DigiCadenceClient, brand_id: int):
        try:
            return brand_id, client.brand_data(brand_id, project_id, force_refresh=config.force_refresh), None
        except ApiNotFound as exc:  # the API does not know this membership: a finding, not an outage
            return brand_id, None, str(exc)

    with api_session(context, dc_api) as (client, recorder):
        workers = max(1, min(len(members), client.settings.max_concurrent_requests))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            answers = list(pool.map(lambda b: fetch(client, b), members))
        bodies = recorder.take()
        stats = client_metadata(client)
    brand_rows, outcome_rows = [], []
    for brand_id, data, missing in answers:
        if data is None:
            brand_rows.append(
                {"project_id": project_id, "brand_id": brand_id, "status": "not_found", "detail": missing}
            )
            continue
        brand_rows.append(
            {
                "project_id": project_id,
                "brand_id": brand_id,
                "status": "ok",
                "brand_name": data.brand_name,
                "name_matches_reference": data.brand_name == names.get(brand_id),
                "category_id": data.category.category_id,
                "category_name": data.category.category_name,
                "role": data.role,
                "detail": None,
            }
        )
        for outcome in data.business_outcomes:
            outcome_rows.append({"project_id": project_id, "brand_id": brand_id, **outcome.model_dump()})
    brands = _typed(pd.DataFrame(brand_rows, columns=list(BRAND_DTYPES)), BRAND_DTYPES).astype(BRAND_DTYPES)
    outcomes = pd.DataFrame(outcome_rows, columns=list(OUTCOME_DTYPES))
    outcomes = _typed(outcomes, OUTCOME_DTYPES).astype(OUTCOME_DTYPES)
    not_found = [b for b, d, _ in answers if d is None]
    context.add_output_metadata(
        {
            **stats,
            "member_brands": len(members),
            "brands_found": len(members) - len(not_found),
            "brands_not_found": ", ".join(f"b{b}" for b in not_found) or "none",
            "outcome_rows": len(outcomes),
        }
    )
    return {
        "api_brand_data": brands,
        "api_brand_outcomes": outcomes,
        "api_brand_data_raw": raw_frame(project_id, bodies),
    }


@_api_asset("api_insights", "Opaque insights JSON from GET /get_multi_data, stored raw and hashed.")
def api_insights(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource
) -> pd.DataFrame:
    project_id = project_id_of(context.partition_key)
    with api_session(context, dc_api) as (client, recorder):
        _, sha = client.insights(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    frame = raw_frame(project_id, bodies)
    context.add_output_metadata({**stats, "body_sha256": sha, "body_bytes": int(frame["n_bytes"].sum())})
    return frame


@_api_asset("api_analytics", "Analytics JSON: the first 2xx body of /analytics/metrics, /get_analytics, /analytics.")
def api_analytics(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource
) -> pd.DataFrame:
    project_id = project_id_of(context.partition_key)
    with api_session(context, dc_api) as (client, recorder):
        result = client.analytics(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    frame = raw_frame(project_id, [b for b in bodies if b.sha256 == result.sha256 and b.path == result.path])
    frame["answered_path"] = result.path
    frame["paths_not_found"] = ", ".join(result.not_found)
    context.add_output_metadata(
        {
            **stats,
            "answered_path": result.path,
            "body_sha256": result.sha256,
            "paths_not_found": ", ".join(result.not_found) or "none",
        }
    )
    return frame


API_PULL_ASSETS = [api_project_meta, api_normalized_values, api_weights, api_brand_data, api_insights, api_analytics]
