"""Digi-Cadence HTTP API client (SPEC §3 "Client").

Per-service base URLs, timeouts, seeded exponential backoff, Retry-After, one token refresh on
401, round-robin failover, a circuit breaker per base URL, a process-wide cap on requests in
flight, response validation, endpoint discovery and a connectivity test.

Every failure raises an `ApiError` whose message names the service, the endpoint and what each
base URL answered. Secrets (API key, tokens) are wrapped in `Secret`, sent only in headers and
scrubbed from every message and log line.

Modules: errors (the ApiError tree), settings (ApiClientSettings, SPEC constants), auth (Secret,
tokens), resilience (backoff, breaker, failover, concurrency gate), transport (one HTTP exchange
and its counters), client (DigiCadenceClient: one call step by step), endpoints (the typed
per-service calls), probes (health, connectivity, discovery). The names below are the public API.
"""

from dc_pipeline.adapters.api_client.auth import Secret, TokenManager
from dc_pipeline.adapters.api_client.client import DigiCadenceClient
from dc_pipeline.adapters.api_client.endpoints import AnalyticsResult, NormalizedPull
from dc_pipeline.adapters.api_client.errors import (
    ApiAuthError,
    ApiClientError,
    ApiError,
    ApiNotFound,
    ApiResponseInvalid,
    ApiUnavailable,
)
from dc_pipeline.adapters.api_client.probes import ConnectivityReport, EndpointState, EndpointStatus
from dc_pipeline.adapters.api_client.resilience import (
    PROCESS_REQUEST_GATE,
    RETRY_STATUSES,
    BreakerState,
    CircuitBreaker,
    ProcessRequestGate,
)
from dc_pipeline.adapters.api_client.settings import (
    ANALYTICS_PATHS,
    DEFAULT_BASE_URLS,
    SERVICES,
    SPEC_SERVICE_PORTS,
    ApiClientSettings,
)
from dc_pipeline.adapters.api_client.transport import RawResponse

__all__ = [
    "ANALYTICS_PATHS",
    "DEFAULT_BASE_URLS",
    "PROCESS_REQUEST_GATE",
    "RETRY_STATUSES",
    "SERVICES",
    "SPEC_SERVICE_PORTS",
    "AnalyticsResult",
    "ApiAuthError",
    "ApiClientError",
    "ApiClientSettings",
    "ApiError",
    "ApiNotFound",
    "ApiResponseInvalid",
    "ApiUnavailable",
    "BreakerState",
    "CircuitBreaker",
    "ConnectivityReport",
    "DigiCadenceClient",
    "EndpointState",
    "EndpointStatus",
    "NormalizedPull",
    "ProcessRequestGate",
    "RawResponse",
    "Secret",
    "TokenManager",
]
