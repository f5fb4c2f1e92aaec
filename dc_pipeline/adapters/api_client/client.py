"""`DigiCadenceClient`: gets a body reliably (SPEC §3 "Client").

A call (`_request`) repeats one step sequence until an answer is accepted or final: take the
headers (token), choose the next URL (round-robin, open circuits skipped), try once, then either
accept a 2xx JSON body, replay once after a token refresh on 401, raise for an answer no retry
can fix, or wait and retry on the next URL. A transfer that arrives broken - cut short, or a 2xx
body that is not JSON - is transient like a 5xx: the next replica may answer it whole. A body that
is JSON of the wrong shape is a schema violation: never retried, handled by the endpoint
(endpoints.py) as a DQ failure or an ApiResponseInvalid naming the field.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from dc_pipeline.adapters.api_cache import CachedResponse, ResponseCache, body_sha256
from dc_pipeline.adapters.api_client.auth import Secret, TokenManager
from dc_pipeline.adapters.api_client.endpoints import ServiceEndpoints, parse_model
from dc_pipeline.adapters.api_client.errors import (
    ANSWER_CHARS,
    ApiAuthError,
    ApiClientError,
    ApiError,
    ApiNotFound,
    ApiResponseInvalid,
    ApiUnavailable,
    excerpt,
)
from dc_pipeline.adapters.api_client.probes import ConnectivityReport, EndpointProber, EndpointStatus
from dc_pipeline.adapters.api_client.resilience import (
    PROCESS_REQUEST_GATE,
    RETRY_STATUSES,
    Backoff,
    CircuitBreaker,
    Failover,
    ProcessRequestGate,
    retry_after_seconds,
)
from dc_pipeline.adapters.api_client.settings import ApiClientSettings
from dc_pipeline.adapters.api_client.transport import HttpTransport, RawResponse
from dc_pipeline.adapters.api_models import TokenResponse


@dataclass
class _Call:
    """One logical request across its tries: what was asked and what each try answered."""

    service: str
    endpoint: str
    urls: tuple[str, ...]
    answers: list[str] = field(default_factory=list)
    retries: int = 0
    refreshed: bool = False
    last_url: str | None = None


@dataclass(frozen=True)
class _Try:
    """One try's answer: a response, or a transport error (no response)."""

    url: str
    response: requests.Response | None
    data: Any = None
    not_json: str | None = None  # why a 2xx body could not be parsed

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.not_json is None

    @property
    def transient(self) -> bool:
        return self.status is None or self.status in RETRY_STATUSES or self.not_json is not None


def decode_json(body: bytes) -> tuple[Any, str | None]:
    """(parsed body, None), or (None, why it is not JSON)."""
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, "not valid JSON" + (f" at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else "")


def endpoint_text(method: str, path: str, params: Mapping[str, Any] | None) -> str:
    return f"{method} {path}" + (f"?{urlencode(params)}" if params else "")


class DigiCadenceClient(ServiceEndpoints):
    """Thread-safe client; one per process (or per resource) is enough."""

    def __init__(
        self,
        settings: ApiClientSettings,
        *,
        cache: ResponseCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        gate: ProcessRequestGate = PROCESS_REQUEST_GATE,
    ) -> None:
        self.settings = settings
        self._cache = cache
        self._sleep = sleep
        self._transport = HttpTransport(session, gate, settings.max_concurrent_requests, settings.timeout)
        self._backoff = Backoff(settings.retry_delay, settings.max_backoff_s, settings.max_retry_after_s, settings.seed)
        self._failover = Failover(settings.breaker_failure_threshold, settings.breaker_cooldown_s, clock)
        self._tokens = TokenManager(
            settings.api_key, settings.auth_token, settings.token_refresh_threshold, clock, self._fetch_token
        )
        self._prober = EndpointProber(self._transport, self._tokens, self._failover, self.urls_for, settings.timeout)

    def __repr__(self) -> str:
        auth = "+".join(n for n, v in (("api_key", self.settings.api_key), ("token", self.settings.auth_token)) if v)
        return f"DigiCadenceClient(base_urls={list(self.settings.base_urls)}, auth={auth or 'none'})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> DigiCadenceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- routing

    def urls_for(self, service: str) -> tuple[str, ...]:
        """The service's base URLs: API_BASE_URLS, with the port replaced when service_ports maps it."""
        port = (self.settings.service_ports or {}).get(service)
        if port is None:
            return self.settings.base_urls
        out: list[str] = []
        for url in self.settings.base_urls:
            parts = urlsplit(url)
            host = parts.hostname or ""
            host = f"[{host}]" if ":" in host else host
            mapped = urlunsplit((parts.scheme, f"{host}:{port}", parts.path, "", ""))
            if mapped not in out:
                out.append(mapped)
        return tuple(out)

    def breaker(self, base_url: str) -> CircuitBreaker:
        return self._failover.breaker(base_url)

    # -------------------------------------------------------------- one call, step by step

    def _request(
        self,
        service: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        authenticated: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """Retries, failover, breakers and the 401 refresh; returns the first 2xx answer with a JSON body."""
        call = _Call(service, endpoint_text(method, path, params), self.urls_for(service))
        while True:
            headers = self._headers(call, authenticated, extra_headers)
            url = self._next_url(call)
            answer = self._try_once(call, method, url, path, params, headers)
            if answer.accepted:
                body = answer.response.content  # type: ignore[union-attr]
                return RawResponse(body, body_sha256(body), url, answer.status, data=answer.data)  # type: ignore[arg-type]
            if answer.status == 401 and authenticated and self._refreshed_after_401(call, headers):
                continue  # replay, not counted as a retry
            self._raise_if_final(call, answer, authenticated)
            self._wait_before_retry(call, answer)

    def _headers(self, call: _Call, authenticated: bool, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if not authenticated:
            return headers
        try:
            headers.update(self._tokens.headers())
        except ApiError as exc:  # keep the class, name the data endpoint that needed the token
            raise type(exc)(
                f"Digi-Cadence service '{call.service}' {call.endpoint}: could not get a bearer token: {exc}",
                service=call.service,
                endpoint=call.endpoint,
                status=exc.status,
                answers=exc.answers,
                attempts=exc.attempts,
            ) from None
        return headers

    def _next_url(self, call: _Call) -> str:
        url = self._failover.pick(call.urls)
        if url is None:
            states = ", ".join(f"{u} {self.breaker(u).state}" for u in call.urls)
            raise self._error(
                call,
                ApiUnavailable,
                f"all circuits open ({states}); not calling until the cool-down "
                f"of {self.settings.breaker_cooldown_s:g} s passes",
            )
        if call.last_url is not None and url != call.last_url:
            self._transport.count(failovers=1)
        call.last_url = url
        return url

    def _try_once(
        self,
        call: _Call,
        method: str,
        url: str,
        path: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> _Try:
        """One exchange with `url`: its answer is noted in `call`, its outcome in the URL's breaker."""
        breaker = self.breaker(url)
        try:
            response = self._transport.send(method, url + path, params, headers, attempt=len(call.answers) + 1)
        except requests.RequestException as exc:
            breaker.record_failure()
            call.answers.append(f"{url} -> {type(exc).__name__}: {self._tokens.redact(str(exc))[:ANSWER_CHARS]}")
            return _Try(url, None)
        except BaseException:
            breaker.record_failure()  # never leave a half-open probe reserved
            raise
        answer = _Try(url, response)
        if 200 <= response.status_code < 300:
            data, not_json = decode_json(response.content)
            answer = _Try(url, response, data, not_json)
            if not_json:
                self._transport.count(invalid_bodies=1)
        if response.status_code >= 500 or answer.not_json:
            breaker.record_failure()
        else:
            breaker.record_success()
        note = f"[{answer.not_json}] " if answer.not_json else ""
        call.answers.append(
            f"{url} -> HTTP {response.status_code} {note}{excerpt(response.content, self._tokens.redact)}".rstrip()
        )
        return answer

    def _refreshed_after_401(self, call: _Call, rejected: Mapping[str, str]) -> bool:
        """Refresh the token once per call (SPEC §3); False when that chance is used or there is no API key."""
        if call.refreshed or not self._tokens.can_refresh:
            return False
        call.refreshed = True
        try:
            self._tokens.refresh_after_401(rejected)
        except ApiError as exc:
            raise self._error(call, ApiAuthError, f"HTTP 401 and the token refresh failed: {exc}", 401) from None
        return True

    def _raise_if_final(self, call: _Call, answer: _Try, authenticated: bool) -> None:
        """Raise for an answer no retry can fix, or when the retries are used up."""
        status = answer.status
        if status == 401 and authenticated:
            why = (
                "HTTP 401 again after one token refresh"
                if call.refreshed
                else "HTTP 401 and no API_KEY to fetch a new token with"
            )
            raise self._error(call, ApiAuthError, f"{why}; check API_KEY / AUTH_TOKEN", 401)
        if status in (401, 403):
            raise self._error(call, ApiAuthError, f"HTTP {status}: credentials rejected; check API_KEY", status)
        if status == 404:
            raise self._error(call, ApiNotFound, "HTTP 404 not found", 404)
        if not answer.transient:
            raise self._error(call, ApiClientError, f"HTTP {status}, not retried", status)
        if call.retries < self.settings.retry_attempts:
            return
        tries = f"failed after {len(call.answers)} attempts ({self.settings.retry_attempts} retries)"
        if answer.not_json:  # every replica answered, the last one with a body that is not JSON
            size = len(answer.response.content)  # type: ignore[union-attr]
            what = f"field <body>: {answer.not_json} ({size} bytes from {answer.url}); {tries}"
            raise self._error(call, ApiResponseInvalid, what, status, problems=("<body>: not valid JSON",))
        raise self._error(call, ApiUnavailable, tries, status)

    def _wait_before_retry(self, call: _Call, answer: _Try) -> None:
        header = answer.response.headers.get("Retry-After") if answer.response is not None else None
        delay = self._backoff.delay(call.retries, retry_after_seconds(header))
        call.retries += 1
        self._transport.count(retries=1)
        self._sleep(delay)

    def _error(self, call: _Call, cls: type[ApiError], what: str, status: int | None = None, **extra: Any) -> ApiError:
        shown = call.answers[-max(4, len(call.urls)) :]
        message = f"Digi-Cadence service '{call.service}' {call.endpoint}: {what}" + (
            f"; answers: {' | '.join(shown)}" if shown else ""
        )
        return cls(
            self._tokens.redact(message),
            service=call.service,
            endpoint=call.endpoint,
            status=status,
            answers=tuple(shown),
            attempts=len(call.answers),
            **extra,
        )

    # -------------------------------------------------------------- bodies

    def _fetch_token(self, api_key: Secret) -> TokenResponse:
        raw = self._request(
            "auth", "POST", "/auth/token", authenticated=False, extra_headers={"X-API-Key": api_key.reveal()}
        )
        return parse_model(TokenResponse, raw.data, "auth", "POST /auth/token")

    def get_raw(
        self, service: str, path: str, params: Mapping[str, Any] | None = None, *, force_refresh: bool = False
    ) -> RawResponse:
        """A GET through the cache (when configured) and the resilient request path."""
        if self._cache is not None and not force_refresh:
            hit = self._cache.get(path, params)
            if hit is not None:
                self._transport.count(cache_hits=1)
                return self._from_cache(service, endpoint_text("GET", path, params), hit)
        raw = self._request(service, "GET", path, params)
        if self._cache is not None:
            self._cache.put(path, params, raw.body, raw.sha256)  # only JSON bodies get here
        return raw

    def _from_cache(self, service: str, endpoint: str, hit: CachedResponse) -> RawResponse:
        data, not_json = decode_json(hit.body)
        if not_json:  # a stored body damaged after it was cached
            raise ApiResponseInvalid(
                f"Digi-Cadence service '{service}' {endpoint}: field <body>: {not_json} "
                f"({len(hit.body)} bytes from cache): {excerpt(hit.body, self._tokens.redact)}",
                service=service,
                endpoint=endpoint,
                status=200,
                problems=("<body>: not valid JSON",),
            )
        return RawResponse(body=hit.body, sha256=hit.sha256, url="", status=200, from_cache=True, data=data)

    # -------------------------------------------------------------- probes and metadata

    def health(self, base_url: str) -> EndpointStatus:
        return self._prober.health(base_url)

    def discover_endpoints(self, project_id: int, brand_id: int | None = None) -> list[EndpointStatus]:
        return self._prober.discover_endpoints(project_id, brand_id)

    def test_connectivity(self) -> ConnectivityReport:
        return self._prober.test_connectivity()

    def stats(self) -> dict[str, Any]:
        """Counts for asset metadata: requests, retries, failovers, token use, cache, breakers."""
        out = self._transport.stats()
        breakers = self._failover.breakers()
        out["token_fetches"] = self._tokens.fetches
        out["token_refreshes_after_401"] = self._tokens.refreshes
        out["breaker_opens"] = sum(b.opens for b in breakers.values())
        out["breaker_half_opens"] = sum(b.half_opens for b in breakers.values())
        out["breaker_states"] = {u: b.state for u, b in breakers.items()}
        return out
