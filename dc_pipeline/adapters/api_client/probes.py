"""Health, connectivity and endpoint discovery: one try per URL and path, no retry, breakers untouched."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import requests

from dc_pipeline.adapters.api_client.auth import TokenManager
from dc_pipeline.adapters.api_client.errors import ANSWER_CHARS, ApiError, excerpt
from dc_pipeline.adapters.api_client.resilience import BreakerState, Failover
from dc_pipeline.adapters.api_client.settings import ANALYTICS_PATHS, SERVICES
from dc_pipeline.adapters.api_client.transport import HttpTransport

BRAND_DATA_TEMPLATE = "/brands/{brand_id}/project_id/{project_id}"
EndpointState = Literal["up", "missing", "down", "skipped"]


@dataclass(frozen=True)
class EndpointStatus:
    service: str
    base_url: str
    path: str
    status: EndpointState
    http_status: int | None
    latency_ms: float | None
    detail: str


@dataclass(frozen=True)
class ConnectivityReport:
    endpoints: list[EndpointStatus]
    breakers: dict[str, BreakerState]

    @property
    def ok(self) -> bool:
        return bool(self.endpoints) and all(e.status == "up" for e in self.endpoints)

    def summary(self) -> str:
        counts = {s: sum(e.status == s for e in self.endpoints) for s in ("up", "missing", "down")}
        bad = [f"{e.base_url}{e.path}: {e.status} ({e.detail})" for e in self.endpoints if e.status != "up"]
        head = f"{counts['up']} up, {counts['missing']} missing, {counts['down']} down"
        return head + (": " + "; ".join(bad) if bad else "")


def endpoint_state(path: str, status: int) -> EndpointState:
    """2xx and other 4xx = up (the path exists), 404 = missing, 5xx = down; /health is up only on 200."""
    if status == 404:
        return "missing"
    if status >= 500:
        return "down"
    if path == "/health":
        return "up" if status == 200 else "down"
    return "up"


class EndpointProber:
    """Probes the SPEC §3 paths with the client's transport, tokens and routing."""

    def __init__(
        self,
        transport: HttpTransport,
        tokens: TokenManager,
        failover: Failover,
        urls_for: Callable[[str], tuple[str, ...]],
        timeout: float,
    ) -> None:
        self._transport = transport
        self._tokens = tokens
        self._failover = failover
        self._urls_for = urls_for
        self._read_timeout = min(5.0, timeout)

    def probe(
        self, service: str, base_url: str, path: str, params: Mapping[str, Any] | None, authenticated: bool
    ) -> EndpointStatus:
        headers: dict[str, str] = {}
        auth_note = ""
        if authenticated:
            try:
                headers = self._tokens.headers()
            except ApiError as exc:
                auth_note = f"; no token ({type(exc).__name__})"
        started = time.perf_counter()
        try:
            response = self._transport.send(
                "GET", base_url + path, params, headers, attempt=1, read_timeout=self._read_timeout
            )
        except requests.RequestException as exc:
            why = self._tokens.redact(f"{type(exc).__name__}: {exc}")[:ANSWER_CHARS]
            return EndpointStatus(service, base_url, path, "down", None, None, why)
        ms = round((time.perf_counter() - started) * 1000, 1)
        status = response.status_code
        detail = f"HTTP {status} {excerpt(response.content, self._tokens.redact)}".rstrip() + auth_note
        return EndpointStatus(service, base_url, path, endpoint_state(path, status), status, ms, detail)

    def health(self, base_url: str) -> EndpointStatus:
        return self.probe("health", base_url.rstrip("/"), "/health", None, authenticated=False)

    def discover_endpoints(self, project_id: int, brand_id: int | None = None) -> list[EndpointStatus]:
        """Probe every SPEC path on every base URL of its service, with real ids so that a 404 means
        the path is missing. Without `brand_id` the brand_data path is reported 'skipped'."""
        probes: list[tuple[str, str, dict[str, Any] | None]] = [
            ("normalized", "/normalized/normalized_value", {"project_ids": project_id}),
            ("frontend", "/api/v1/project/get-project/", {"project_id": project_id}),
            ("weight_sum", "/weight_sum", {"project_id": project_id}),
            ("insights", "/get_multi_data", {"project_id": project_id}),
            *(("analytics_metric", p, {"project_id": project_id}) for p in ANALYTICS_PATHS),
        ]
        found = [
            self.probe(service, base, path, params, authenticated=True)
            for service, path, params in probes
            for base in self._urls_for(service)
        ]
        skipped = "no brand_id given to probe with"
        for base in self._urls_for("brand_data"):
            if brand_id is None:
                found.append(EndpointStatus("brand_data", base, BRAND_DATA_TEMPLATE, "skipped", None, None, skipped))
            else:
                path = BRAND_DATA_TEMPLATE.format(brand_id=int(brand_id), project_id=int(project_id))
                found.append(self.probe("brand_data", base, path, None, authenticated=True))
        return found

    def test_connectivity(self) -> ConnectivityReport:
        """GET /health on every distinct base URL of every service, plus the breaker states."""
        bases = list(dict.fromkeys(url for service in SERVICES for url in self._urls_for(service)))
        breakers = self._failover.breakers()
        return ConnectivityReport(
            endpoints=[self.health(u) for u in bases], breakers={u: b.state for u, b in breakers.items()}
        )
