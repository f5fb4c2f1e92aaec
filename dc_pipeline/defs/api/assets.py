"""HTTP pulls from the Digi-Cadence API, per project (SPEC §0 asset table, §3).

Each asset returns DataFrames that the partition-aware IO manager writes to `dc_staging` (the structured rows,
the quarantined records and the raw JSON bodies it was built from). Names map to ids through
`reference_snapshot` and `src_metrics`. An API failure fails the asset with a `dg.Failure` naming the service,
the endpoint and what each base URL answered; nothing is written. These assets sit in group `api_sources`,
outside `ingest_job`, so an outage never stops the Postgres path.
"""

from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.adapters.api_client import ApiNotFound, DigiCadenceClient
from dc_pipeline.defs.api.resources import DigiCadenceApiResource
from dc_pipeline.defs.api.session import IngestConfig, api_asset, api_session, client_metadata, project_of
from dc_pipeline.domain import api_frames, api_mapping
from dc_pipeline.domain.partition_keys import project_id_of
from dc_pipeline.domain.reference import Reference


@api_asset(
    "api_normalized_values",
    "Normalized values from GET /normalized/normalized_value, mapped to ids; "
    "unmappable records quarantined (unknown_brand, unknown_metric, period_missing).",
)
def api_normalized_values(
    context: dg.AssetExecutionContext,
    config: IngestConfig,
    dc_api: DigiCadenceApiResource,
    reference_snapshot: dict,
    src_metrics: pd.DataFrame,
) -> dict:
    project_id = project_id_of(context.partition_key)
    project = project_of(reference_snapshot, project_id)
    with api_session(context, dc_api) as (client, recorder):
        pull = client.normalized_values_checked(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        meta = client_metadata(client)
    records = api_frames.normalized_records(pull.records, pull.problems, pull.n_received)
    brands = Reference.from_snapshot(reference_snapshot).brands
    mapped, quarantine = api_mapping.map_normalized_records(records, project, brands, src_metrics)
    invalid = api_frames.invalid_records(project_id, pull.problems, bodies[-1].body if bodies else None)
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
        "api_normalized_values_raw": api_frames.raw_bodies(project_id, bodies),
    }


@api_asset(
    "api_project_meta",
    "Project metadata and metric definitions from GET /api/v1/project/get-project/.",
)
def api_project_meta(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource, reference_snapshot: dict
) -> dict:
    project_id = project_id_of(context.partition_key)
    project = project_of(reference_snapshot, project_id)
    with api_session(context, dc_api) as (client, recorder):
        meta = client.project_meta(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    summary, metrics = api_frames.project_meta(project_id, meta, project["project_name"])
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
        "api_project_meta_raw": api_frames.raw_bodies(project_id, bodies),
    }


@api_asset(
    "api_weights",
    "Metric weights from GET /weight_sum, mapped to metric ids (input of rule K4).",
)
def api_weights(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource, src_metrics: pd.DataFrame
) -> dict:
    project_id = project_id_of(context.partition_key)
    with api_session(context, dc_api) as (client, recorder):
        body = client.weight_sum(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    weights = api_frames.weights(body)
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
        "api_weights_raw": api_frames.raw_bodies(project_id, bodies),
    }


@api_asset(
    "api_brand_data",
    "Brand details and business outcomes of every member brand from "
    "GET /brands/{brand_id}/project_id/{project_id} (outcomes feed rule K3).",
)
def api_brand_data(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource, reference_snapshot: dict
) -> dict:
    project_id = project_id_of(context.partition_key)
    project_of(reference_snapshot, project_id)
    reference = Reference.from_snapshot(reference_snapshot)
    members = reference.members(project_id)

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
    brands, outcomes = api_frames.brand_data(project_id, answers, reference.brand_names)
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
        "api_brand_data_raw": api_frames.raw_bodies(project_id, bodies),
    }


@api_asset("api_insights", "Opaque insights JSON from GET /get_multi_data, stored raw and hashed.")
def api_insights(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource
) -> pd.DataFrame:
    project_id = project_id_of(context.partition_key)
    with api_session(context, dc_api) as (client, recorder):
        _, sha = client.insights(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    frame = api_frames.raw_bodies(project_id, bodies)
    context.add_output_metadata({**stats, "body_sha256": sha, "body_bytes": int(frame["n_bytes"].sum())})
    return frame


@api_asset("api_analytics", "Analytics JSON: the first 2xx body of /analytics/metrics, /get_analytics, /analytics.")
def api_analytics(
    context: dg.AssetExecutionContext, config: IngestConfig, dc_api: DigiCadenceApiResource
) -> pd.DataFrame:
    project_id = project_id_of(context.partition_key)
    with api_session(context, dc_api) as (client, recorder):
        result = client.analytics(project_id, force_refresh=config.force_refresh)
        bodies = recorder.take()
        stats = client_metadata(client)
    answered = [b for b in bodies if b.sha256 == result.sha256 and b.path == result.path]
    frame = api_frames.raw_bodies(project_id, answered)
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
