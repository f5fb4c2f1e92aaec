"""The plumbing every api_* asset shares: run config, the per-execution client session that turns API errors
into `dg.Failure`, the client counters as metadata, and the asset decorator (pool, retries, storage)."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from dc_pipeline.adapters.api_cache_postgres import RecordingCache
from dc_pipeline.adapters.api_client import (
    ApiAuthError,
    ApiClientError,
    ApiError,
    ApiResponseInvalid,
    DigiCadenceClient,
)
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.api.resources import DigiCadenceApiResource
from dc_pipeline.defs.partitions import projects_partitions
from dc_pipeline.domain.reference import Reference

API_GROUP = "api_sources"
API_POOL = "http_api"
API_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL)
# Run tag that turns step retries off for an outage (interactive runs and tests fail at once).
FAIL_FAST_TAG = "dc/api_fail_fast"
# A pull fetches the project of its run's one partition (context.partition_key): backfills run one per project.
API_BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=1)


class IngestConfig(dg.Config):
    """Run config of the API assets: `force_refresh` bypasses the response cache (SPEC §3)."""

    force_refresh: bool = False


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


def api_asset(name: str, description: str, **kwargs):
    """An api_* asset: project-partitioned, in the http_api pool, retried on outages (SPEC §3)."""
    return dg.asset(
        name=name,
        description=description,
        partitions_def=projects_partitions,
        backfill_policy=API_BACKFILL_POLICY,
        group_name=API_GROUP,
        pool=API_POOL,
        retry_policy=API_RETRY_POLICY,
        metadata=stored_metadata(name),
        kinds={"api", "postgres"},
        **kwargs,
    )


# ----------------------------------------------------------------------------------- assets


def project_of(reference_snapshot: dict, project_id: int) -> dict:
    reference = Reference.from_snapshot(reference_snapshot)
    if not reference.has_project(project_id):
        raise dg.Failure(description=f"project {project_id} is not in reference_snapshot; run reference_job first")
    return reference.project(project_id)
