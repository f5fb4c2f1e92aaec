"""Digi-Cadence HTTP API client (SPEC §3 "Client").

Per-service base URLs, timeouts, seeded exponential backoff, Retry-After, one token refresh on
401, round-robin failover, a circuit breaker per base URL, a process-wide cap on requests in
flight, response validation, endpoint discovery and a connectivity test.

Every failure raises an `ApiError` whose message names the service, the endpoint and what each
base URL answered. Secrets (API key, tokens) are wrapped in `Secret`, sent only in headers and
scrubbed from every message and log line.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter

from dc_pipeline.adapters.api_cache import ResponseCache, body_sha256
from dc_pipeline.adapters.api_models import (
    BrandData,
    NormalizedRecord,
    ProjectMeta,
    TokenResponse,
    WeightSum,
    validation_problems,
)
from dc_pipeline.domain.settings import ConfigError, SystemConfig

logger = logging.getLogger("dc_pipeline.adapters.api_client")

DEFAULT_BASE_URLS: tuple[str, ...] = ("http://localhost:7000", "http://localhost:8001", "http://localhost:8002")
# The port map of SPEC §3, for deployments that set `api_config.service_ports` to it.
SPEC_SERVICE_PORTS: dict[str, int] = {
    "frontend": 7000,
    "normalized": 8001,
    "weight_sum": 8002,
    "insights": 8004,
    "brand_data": 8018,
    "analytics_metric": 8025,
}
SERVICES: tuple[str, ...] = (*SPEC_SERVICE_PORTS, "auth")
ANALYTICS_PATHS: tuple[str, ...] = ("/analytics/metrics", "/get_analytics", "/analytics")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ANSWER_CHARS = 200  # body excerpt kept in error messages


# ----------------------------------------------------------------------------------- secrets


class Secret:
    """A string that never shows itself in repr/str/format; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _secret_or_none(value: str | Secret | None) -> Secret | None:
    if value is None or isinstance(value, Secret):
        return value
    return Secret(value) if value.strip() else None


# ----------------------------------------------------------------------------------- errors


class ApiError(Exception):
    """A Digi-Cadence call failed. Attributes say where; `str()` says what, without secrets."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        endpoint: str,
        status: int | None = None,
        answers: tuple[str, ...] = (),
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.endpoint = endpoint
        self.status = status
        self.answers = answers
        self.attempts = attempts

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes despite keyword-only fields
        return (_rebuild_error, (type(self), str(self), dict(self.__dict__)))


def _rebuild_error(cls: type[ApiError], message: str, state: dict[str, Any]) -> ApiError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ApiAuthError(ApiError):
    """401/403 that one token refresh did not fix, or no API key to refresh with."""


class ApiUnavailable(ApiError):
    """Retries exhausted on transient failures, or every circuit of the service is open."""


class ApiClientError(ApiError):
    """A 4xx other than 401/429: the request is wrong, retrying cannot help."""


class ApiNotFound(ApiClientError):
    """HTTP 404: the endpoint or the resource does not exist on that service."""


class ApiResponseInvalid(ApiError):
    """A 2xx body that is not JSON or does not have the expected shape."""

    def __init__(self, message: str, *, problems: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.problems = problems


# ----------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class ApiClientSettings:
    base_urls: tuple[str, ...] = DEFAULT_BASE_URLS
    timeout: float = 30.0
    retry_attempts: int = 3
    retry_delay: float = 1.0
    max_concurrent_requests: int = 10
    service_ports: Mapping[str, int] | None = None
    api_key: Secret | None = None
    auth_token: Secret | None = None
    token_refresh_threshold: float = 300.0
    breaker_failure_threshold: int = 5
    breaker_cooldown_s: float = 30.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0
    seed: int = 42

    def __post_init__(self) -> None:
        urls = tuple(u.strip().rstrip("/") for u in self.base_urls if u and u.strip())
        if not urls:
            raise ConfigError("API_BASE_URLS is empty: give at least one base URL, e.g. http://localhost:7000")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"API_BASE_URLS entry {url!r} is not an http(s) URL with a host")
        object.__setattr__(self, "base_urls", urls)
        object.__setattr__(self, "api_key", _secret_or_none(self.api_key))  # type: ignore[arg-type]
        object.__setattr__(self, "auth_token", _secret_or_none(self.auth_token))  # type: ignore[arg-type]
        if self.timeout <= 0:
            raise ConfigError(f"API_TIMEOUT must be > 0 s, got {self.timeout}")
        if self.retry_attempts < 0 or self.retry_delay < 0:
            raise ConfigError("API_RETRY_ATTEMPTS and API_RETRY_DELAY must be >= 0")
        if self.max_concurrent_requests < 1:
            raise ConfigError("api_config.max_concurrent_requests must be >= 1")

    @classmethod
    def from_config(
        cls, config: SystemConfig, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> ApiClientSettings:
        """SPEC §10 precedence for the API: environment over `system_config.json` over defaults."""
        env = os.environ if env is None else env
        api = config.api_config

        def number(name: str, default: float, kind: type) -> Any:
            raw = (env.get(name) or "").strip()
            if not raw:
                return kind(default)
            try:
                return kind(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None

        raw_urls = (env.get("API_BASE_URLS") or "").strip()
        values: dict[str, Any] = dict(
            base_urls=tuple(raw_urls.split(",")) if raw_urls else DEFAULT_BASE_URLS,
            timeout=number("API_TIMEOUT", api.timeout, float),
            retry_attempts=number("API_RETRY_ATTEMPTS", api.retry_attempts, int),
            retry_delay=number("API_RETRY_DELAY", api.retry_delay, float),
            max_concurrent_requests=api.max_concurrent_requests,
            service_ports=api.service_ports,
            api_key=env.get("API_KEY") or None,
            auth_token=env.get("AUTH_TOKEN") or None,
            token_refresh_threshold=config.auth_config.token_refresh_threshold,
            seed=config.random_seed,
        )
        values.update(overrides)
        return cls(**values)


# ----------------------------------------------------------------------------------- breaker

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `cooldown_s` admits one probe
    (half-open) that closes it on success and reopens it on failure."""

    def __init__(self, failure_threshold: int, cooldown_s: float, clock: Callable[[], float]) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probe_out = False
        self.opens = 0
        self.half_opens = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self.cooldown_s:
                return "half_open"
            return self._state

    def allow(self) -> bool:
        """True when a request may go out now; in half-open this reserves the single probe."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open":
                if self._clock() - self._opened_at < self.cooldown_s:
                    return False
                self._state = "half_open"
                self.half_opens += 1
                self._probe_out = False
            if self._probe_out:
                return False
            self._probe_out = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state = "closed"
            self._failures = 0
            self._probe_out = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state == "half_open" or (self._state == "closed" and self._failures >= self.failure_threshold):
                self._state = "open"
                self._opened_at = self._clock()
                self.opens += 1
            self._probe_out = False


# ----------------------------------------------------------------------------------- concurrency


class _ProcessRequestGate:
    """One in-flight counter for the whole process; each caller waits while it is at its limit."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.in_flight = 0

    @contextmanager
    def slot(self, limit: int) -> Iterator[None]:
        with self._cond:
            while self.in_flight >= limit:
                self._cond.wait()
            self.in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify_all()


PROCESS_REQUEST_GATE = _ProcessRequestGate()


# ----------------------------------------------------------------------------------- tokens


class TokenManager:
    """Holds the bearer token; fetches one with the API key when missing or near expiry."""

    def __init__(
        self,
        api_key: Secret | None,
        static_token: Secret | None,
        refresh_threshold: float,
        clock: Callable[[], float],
        fetch: Callable[[Secret], TokenResponse],
    ) -> None:
        self._api_key = api_key
        self._token = static_token
        self._expires_at: float | None = None  # unknown for a static AUTH_TOKEN
        self._threshold = refresh_threshold
        self._clock = clock
        self._fetch = fetch
        self._lock = threading.RLock()
        self.refreshes = 0  # fetches caused by a 401
        self.fetches = 0
        self.seen: set[str] = {static_token.reveal()} if static_token else set()

    @property
    def can_refresh(self) -> bool:
        return self._api_key is not None

    def _needs_fetch(self) -> bool:
        if self._token is None:
            return True
        return self._expires_at is not None and self._expires_at - self._clock() < self._threshold

    def _fetch_now(self) -> None:
        assert self._api_key is not None
        answer = self._fetch(self._api_key)
        self._token = Secret(answer.access_token)
        self._expires_at = self._clock() + answer.expires_in
        self.seen.add(answer.access_token)
        self.fetches += 1

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self.can_refresh and self._needs_fetch():
                self._fetch_now()
            out: dict[str, str] = {}
            if self._token is not None:
                out["Authorization"] = f"Bearer {self._token.reveal()}"
            if self._api_key is not None:
                out["X-API-Key"] = self._api_key.reveal()
            return out

    def refresh_after_401(self, rejected: Mapping[str, str]) -> None:
        """Fetch a new token unless another thread already replaced the rejected one."""
        with self._lock:
            current = f"Bearer {self._token.reveal()}" if self._token else None
            if current is not None and current != rejected.get("Authorization"):
                return
            self._fetch_now()
            self.refreshes += 1

    def secrets(self) -> list[str]:
        with self._lock:
            found = set(self.seen)
            if self._api_key is not None:
                found.add(self._api_key.reveal())
            return sorted(found, key=len, reverse=True)


# ----------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RawResponse:
    body: bytes
    sha256: str
    url: str  # base URL that answered ('' when served from the cache)
    status: int
    from_cache: bool = False

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class NormalizedPull:
    """Records that passed validation plus one problem line per rejected field (for DQ)."""

    records: list[NormalizedRecord]
    problems: list[str]
    n_received: int
    sha256: str


@dataclass(frozen=True)
class AnalyticsResult:
    path: str
    raw_json: str
    sha256: str
    not_found: tuple[str, ...] = ()  # paths tried first that answered 404


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


@dataclass
class _Counters:
    requests: int = 0
    retries: int = 0
    failovers: int = 0
    cache_hits: int = 0
    transport_errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    in_flight: int = 0
    peak_in_flight: int = 0


# ----------------------------------------------------------------------------------- client


class DigiCadenceClient:
    """Thread-safe client; one per process (or per resource) is enough."""

    def __init__(
        self,
        settings: ApiClientSettings,
        *,
        cache: ResponseCache | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        gate: _ProcessRequestGate = PROCESS_REQUEST_GATE,
    ) -> None:
        self.settings = settings
        self._cache = cache
        self._clock = clock
        self._sleep = sleep
        self._gate = gate
        self._session = session or requests.Session()
        adapter = HTTPAdapter(pool_maxsize=max(settings.max_concurrent_requests, 1), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._rng = np.random.default_rng(settings.seed)
        self._lock = threading.Lock()
        self._counters = _Counters()
        self._round_robin: dict[tuple[str, ...], int] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._tokens = TokenManager(
            settings.api_key, settings.auth_token, settings.token_refresh_threshold, clock, self._fetch_token
        )

    def __repr__(self) -> str:
        auth = "+".join(n for n, v in (("api_key", self.settings.api_key), ("token", self.settings.auth_token)) if v)
        return f"DigiCadenceClient(base_urls={list(self.settings.base_urls)}, auth={auth or 'none'})"

    def close(self) -> None:
        self._session.close()

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
        with self._lock:
            if base_url not in self._breakers:
                self._breakers[base_url] = CircuitBreaker(
                    self.settings.breaker_failure_threshold, self.settings.breaker_cooldown_s, self._clock
                )
            return self._breakers[base_url]

    def _pick(self, urls: tuple[str, ...]) -> str | None:
        """Next URL in round-robin order whose circuit admits a request."""
        with self._lock:
            start = self._round_robin.get(urls, 0)
        for i in range(len(urls)):
            idx = (start + i) % len(urls)
            if self.breaker(urls[idx]).allow():
                with self._lock:
                    self._round_robin[urls] = idx + 1
                return urls[idx]
        return None

    # -------------------------------------------------------------- transport

    def _redact(self, text: str) -> str:
        for secret in self._tokens.secrets():
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text

    def _excerpt(self, body: bytes) -> str:
        text = body[: _ANSWER_CHARS * 2].decode("utf-8", errors="replace").replace("\n", " ")
        text = self._redact(text)
        return text[:_ANSWER_CHARS] + ("…" if len(body) > _ANSWER_CHARS else "")

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        attempt: int,
        read_timeout: float | None = None,
    ) -> requests.Response:
        """One HTTP exchange under the process gate; the body is read inside so a truncated body
        surfaces here as a transport error. Logs URL, status, attempt and latency."""
        timeout = (min(5.0, self.settings.timeout), read_timeout or self.settings.timeout)
        shown = url + (f"?{urlencode(params)}" if params else "")
        with self._gate.slot(self.settings.max_concurrent_requests):
            with self._lock:
                self._counters.requests += 1
                self._counters.in_flight += 1
                self._counters.peak_in_flight = max(self._counters.peak_in_flight, self._counters.in_flight)
            started = time.perf_counter()
            try:
                response = self._session.request(
                    method, url, params=params, headers=dict(headers), timeout=timeout, allow_redirects=False
                )
                _ = response.content
            except requests.RequestException as exc:
                ms = (time.perf_counter() - started) * 1000
                with self._lock:
                    self._counters.transport_errors += 1
                logger.warning(
                    "%s %s status=%s attempt=%d latency_ms=%.1f", method, shown, type(exc).__name__, attempt, ms
                )
                raise
            finally:
                with self._lock:
                    self._counters.in_flight -= 1
        ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self._counters.by_status[response.status_code] = self._counters.by_status.get(response.status_code, 0) + 1
        logger.info("%s %s status=%d attempt=%d latency_ms=%.1f", method, shown, response.status_code, attempt, ms)
        return response

    def _backoff(self, retry_index: int, retry_after: float | None) -> float:
        with self._lock:
            jitter = float(self._rng.uniform(0.5, 1.5))
        delay = min(self.settings.max_backoff_s, self.settings.retry_delay * 2**retry_index) * jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.settings.max_retry_after_s))
        return delay

    @staticmethod
    def _retry_after(response: requests.Response) -> float | None:
        raw = response.headers.get("Retry-After")
        if not raw:
            return None
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                return None
            return max(0.0, when.timestamp() - time.time())

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
        """Retries, failover, breakers and the 401 refresh; returns the first 2xx answer."""
        urls = self.urls_for(service)
        endpoint = f"{method} {path}" + (f"?{urlencode(params)}" if params else "")
        answers: list[str] = []
        retries = 0
        refreshed = False
        previous_url: str | None = None

        def fail(cls: type[ApiError], what: str, status: int | None = None) -> ApiError:
            shown = answers[-max(4, len(urls)) :]
            message = f"Digi-Cadence service '{service}' {endpoint}: {what}" + (
                f"; answers: {' | '.join(shown)}" if shown else ""
            )
            return cls(
                self._redact(message),
                service=service,
                endpoint=endpoint,
                status=status,
                answers=tuple(shown),
                attempts=len(answers),
            )

        while True:
            headers = dict(extra_headers or {})
            if authenticated:
                try:
                    headers.update(self._tokens.headers())
                except ApiError as exc:  # keep the class, name the data endpoint that needed the token
                    raise type(exc)(
                        f"Digi-Cadence service '{service}' {endpoint}: could not get a bearer token: {exc}",
                        service=service,
                        endpoint=endpoint,
                        status=exc.status,
                        answers=exc.answers,
                        attempts=exc.attempts,
                    ) from None
            base = self._pick(urls)
            if base is None:
                states = ", ".join(f"{u} {self.breaker(u).state}" for u in urls)
                raise fail(
                    ApiUnavailable,
                    f"all circuits open ({states}); not calling until the cool-down "
                    f"of {self.settings.breaker_cooldown_s:g} s passes",
                )
            if previous_url is not None and base != previous_url:
                with self._lock:
                    self._counters.failovers += 1
            previous_url = base
            breaker = self.breaker(base)
            retry_after: float | None = None
            try:
                response = self._send(method, base + path, params, headers, attempt=len(answers) + 1)
            except requests.RequestException as exc:
                breaker.record_failure()
                answers.append(f"{base} -> {type(exc).__name__}: {self._redact(str(exc))[:_ANSWER_CHARS]}")
                status: int | None = None
            except BaseException:
                breaker.record_failure()  # never leave a half-open probe reserved
                raise
            else:
                status = response.status_code
                answers.append(f"{base} -> HTTP {status} {self._excerpt(response.content)}".rstrip())
                if status >= 500:
                    breaker.record_failure()
                else:
                    breaker.record_success()
                if 200 <= status < 300:
                    return RawResponse(
                        body=response.content, sha256=body_sha256(response.content), url=base, status=status
                    )
                if status == 401 and authenticated:
                    if not refreshed and self._tokens.can_refresh:
                        refreshed = True
                        try:
                            self._tokens.refresh_after_401(headers)
                        except ApiError as exc:
                            raise fail(ApiAuthError, f"HTTP 401 and the token refresh failed: {exc}", 401) from None
                        continue  # replay, not counted as a retry
                    why = (
                        "HTTP 401 again after one token refresh"
                        if refreshed
                        else "HTTP 401 and no API_KEY to fetch a new token with"
                    )
                    raise fail(ApiAuthError, f"{why}; check API_KEY / AUTH_TOKEN", 401)
                if status in (401, 403):
                    raise fail(ApiAuthError, f"HTTP {status}: credentials rejected; check API_KEY", status)
                if status == 404:
                    raise fail(ApiNotFound, "HTTP 404 not found", 404)
                if status not in RETRY_STATUSES:
                    raise fail(ApiClientError, f"HTTP {status}, not retried", status)
                retry_after = self._retry_after(response)
            if retries >= self.settings.retry_attempts:
                raise fail(
                    ApiUnavailable,
                    f"failed after {len(answers)} attempts ({self.settings.retry_attempts} retries)",
                    status,
                )
            delay = self._backoff(retries, retry_after)
            retries += 1
            with self._lock:
                self._counters.retries += 1
            self._sleep(delay)

    def _fetch_token(self, api_key: Secret) -> TokenResponse:
        raw = self._request(
            "auth", "POST", "/auth/token", authenticated=False, extra_headers={"X-API-Key": api_key.reveal()}
        )
        data = self._json(raw, "auth", "POST /auth/token")
        return self._model(TokenResponse, data, "auth", "POST /auth/token")

    def get_raw(
        self, service: str, path: str, params: Mapping[str, Any] | None = None, *, force_refresh: bool = False
    ) -> RawResponse:
        """A GET through the cache (when configured) and the resilient request path."""
        if self._cache is not None and not force_refresh:
            hit = self._cache.get(path, params)
            if hit is not None:
                with self._lock:
                    self._counters.cache_hits += 1
                return RawResponse(body=hit.body, sha256=hit.sha256, url="", status=200, from_cache=True)
        raw = self._request(service, "GET", path, params)
        if self._cache is not None:
            self._json(raw, service, f"GET {path}")  # never cache a body we cannot parse
            self._cache.put(path, params, raw.body, raw.sha256)
        return raw

    # -------------------------------------------------------------- parsing

    def _json(self, raw: RawResponse, service: str, endpoint: str) -> Any:
        try:
            return json.loads(raw.body)
        except (ValueError, UnicodeDecodeError) as exc:
            where = f" at char {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
            raise ApiResponseInvalid(
                f"Digi-Cadence service '{service}' {endpoint}: field <body>: not valid JSON{where} "
                f"({len(raw.body)} bytes from {raw.url or 'cache'}): {self._excerpt(raw.body)}",
                service=service,
                endpoint=endpoint,
                status=raw.status,
                problems=("<body>: not valid JSON",),
            ) from None

    def _model(self, model: type[BaseModel], data: Any, service: str, endpoint: str) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problems = tuple(validation_problems(exc))
            raise ApiResponseInvalid(
                f"Digi-Cadence service '{service}' {endpoint}: unexpected response shape: "
                + "; ".join(problems[:5])
                + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""),
                service=service,
                endpoint=endpoint,
                problems=problems,
            ) from None

    # -------------------------------------------------------------- endpoints

    def normalized_values_checked(self, project_id: int, *, force_refresh: bool = False) -> NormalizedPull:
        """Valid records plus a problem line per invalid record field, so bad records become DQ
        failures rather than crashes. A body that is not a JSON array raises ApiResponseInvalid."""
        path, params = "/normalized/normalized_value", {"project_ids": int(project_id)}
        endpoint = f"GET {path}?project_ids={int(project_id)}"
        raw = self.get_raw("normalized", path, params, force_refresh=force_refresh)
        data = self._json(raw, "normalized", endpoint)
        if not isinstance(data, list):
            raise ApiResponseInvalid(
                f"Digi-Cadence service 'normalized' {endpoint}: field <body>: expected a JSON array of records, "
                f"got {type(data).__name__}",
                service="normalized",
                endpoint=endpoint,
                problems=("<body>: expected a JSON array",),
            )
        records: list[NormalizedRecord] = []
        problems: list[str] = []
        for i, item in enumerate(data):
            try:
                records.append(NormalizedRecord.model_validate(item))
            except ValidationError as exc:
                problems.extend(validation_problems(exc, prefix=f"[{i}]."))
        return NormalizedPull(records=records, problems=problems, n_received=len(data), sha256=raw.sha256)

    def normalized_values(self, project_id: int, *, force_refresh: bool = False) -> list[NormalizedRecord]:
        pull = self.normalized_values_checked(project_id, force_refresh=force_refresh)
        if pull.problems:
            endpoint = f"GET /normalized/normalized_value?project_ids={int(project_id)}"
            raise ApiResponseInvalid(
                f"Digi-Cadence service 'normalized' {endpoint}: {len(pull.problems)} invalid field(s) in "
                f"{pull.n_received} records: " + "; ".join(pull.problems[:5]),
                service="normalized",
                endpoint=endpoint,
                problems=tuple(pull.problems),
            )
        return pull.records

    def project_meta(self, project_id: int, *, force_refresh: bool = False) -> ProjectMeta:
        path, params = "/api/v1/project/get-project/", {"project_id": int(project_id)}
        endpoint = f"GET {path}?project_id={int(project_id)}"
        data = self._json(self.get_raw("frontend", path, params, force_refresh=force_refresh), "frontend", endpoint)
        if isinstance(data, dict) and isinstance(data.get("project"), dict):
            data = data["project"]
        return self._model(ProjectMeta, data, "frontend", endpoint)

    def weight_sum(self, project_id: int, *, force_refresh: bool = False) -> WeightSum:
        path, params = "/weight_sum", {"project_id": int(project_id)}
        endpoint = f"GET {path}?project_id={int(project_id)}"
        data = self._json(self.get_raw("weight_sum", path, params, force_refresh=force_refresh), "weight_sum", endpoint)
        return self._model(WeightSum, data, "weight_sum", endpoint)

    def insights(self, project_id: int, *, force_refresh: bool = False) -> tuple[str, str]:
        """(raw JSON text, sha256 of the body); the content is opaque, only JSON-ness is checked."""
        path, params = "/get_multi_data", {"project_id": int(project_id)}
        raw = self.get_raw("insights", path, params, force_refresh=force_refresh)
        self._json(raw, "insights", f"GET {path}?project_id={int(project_id)}")
        return raw.text(), raw.sha256

    def brand_data(self, brand_id: int, project_id: int, *, force_refresh: bool = False) -> BrandData:
        path = f"/brands/{int(brand_id)}/project_id/{int(project_id)}"
        data = self._json(self.get_raw("brand_data", path, force_refresh=force_refresh), "brand_data", f"GET {path}")
        return self._model(BrandData, data, "brand_data", f"GET {path}")

    def analytics(self, project_id: int, *, force_refresh: bool = False) -> AnalyticsResult:
        """The first 2xx body of /analytics/metrics, /get_analytics, /analytics (404 moves on)."""
        params = {"project_id": int(project_id)}
        not_found: list[str] = []
        for path in ANALYTICS_PATHS:
            try:
                raw = self.get_raw("analytics_metric", path, params, force_refresh=force_refresh)
            except ApiNotFound:
                not_found.append(path)
                continue
            self._json(raw, "analytics_metric", f"GET {path}?project_id={int(project_id)}")
            return AnalyticsResult(path=path, raw_json=raw.text(), sha256=raw.sha256, not_found=tuple(not_found))
        endpoint = " then ".join(f"GET {p}" for p in ANALYTICS_PATHS) + f" ?project_id={int(project_id)}"
        raise ApiNotFound(
            f"Digi-Cadence service 'analytics_metric' {endpoint}: all three paths answered HTTP 404",
            service="analytics_metric",
            endpoint=endpoint,
            status=404,
        )

    # -------------------------------------------------------------- probes

    def _probe(
        self, service: str, base_url: str, path: str, params: Mapping[str, Any] | None, authenticated: bool
    ) -> EndpointStatus:
        """One try, no retry, breakers untouched: 2xx/other 4xx = up, 404 = missing, else down."""
        headers: dict[str, str] = {}
        auth_note = ""
        if authenticated:
            try:
                headers = self._tokens.headers()
            except ApiError as exc:
                auth_note = f"; no token ({type(exc).__name__})"
        started = time.perf_counter()
        try:
            response = self._send(
                "GET", base_url + path, params, headers, attempt=1, read_timeout=min(5.0, self.settings.timeout)
            )
        except requests.RequestException as exc:
            return EndpointStatus(
                service,
                base_url,
                path,
                "down",
                None,
                None,
                self._redact(f"{type(exc).__name__}: {exc}")[:_ANSWER_CHARS],
            )
        ms = round((time.perf_counter() - started) * 1000, 1)
        status = response.status_code
        if status == 404:
            state: EndpointState = "missing"
        elif status >= 500:
            state = "down"
        elif path == "/health":
            state = "up" if status == 200 else "down"  # only 200 counts as healthy
        else:
            state = "up"
        return EndpointStatus(
            service,
            base_url,
            path,
            state,
            status,
            ms,
            f"HTTP {status} {self._excerpt(response.content)}".rstrip() + auth_note,
        )

    def health(self, base_url: str) -> EndpointStatus:
        return self._probe("health", base_url.rstrip("/"), "/health", None, authenticated=False)

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
        found: list[EndpointStatus] = []
        for service, path, params in probes:
            for base in self.urls_for(service):
                found.append(self._probe(service, base, path, params, authenticated=True))
        for base in self.urls_for("brand_data"):
            if brand_id is None:
                found.append(
                    EndpointStatus(
                        "brand_data",
                        base,
                        "/brands/{brand_id}/project_id/{project_id}",
                        "skipped",
                        None,
                        None,
                        "no brand_id given to probe with",
                    )
                )
            else:
                found.append(
                    self._probe(
                        "brand_data",
                        base,
                        f"/brands/{int(brand_id)}/project_id/{int(project_id)}",
                        None,
                        authenticated=True,
                    )
                )
        return found

    def test_connectivity(self) -> ConnectivityReport:
        """GET /health on every distinct base URL of every service, plus the breaker states."""
        bases: list[str] = []
        for service in SERVICES:
            for url in self.urls_for(service):
                if url not in bases:
                    bases.append(url)
        with self._lock:
            breakers = {u: b for u, b in self._breakers.items()}
        return ConnectivityReport(
            endpoints=[self.health(u) for u in bases], breakers={u: b.state for u, b in breakers.items()}
        )

    # -------------------------------------------------------------- metadata

    def stats(self) -> dict[str, Any]:
        """Counts for asset metadata: requests, retries, failovers, token use, cache, breakers."""
        with self._lock:
            c = self._counters
            breakers = dict(self._breakers)
            out: dict[str, Any] = {
                "requests": c.requests,
                "retries": c.retries,
                "failovers": c.failovers,
                "cache_hits": c.cache_hits,
                "transport_errors": c.transport_errors,
                "responses_by_status": {str(k): v for k, v in sorted(c.by_status.items())},
                "peak_in_flight": c.peak_in_flight,
            }
        out["token_fetches"] = self._tokens.fetches
        out["token_refreshes_after_401"] = self._tokens.refreshes
        out["breaker_opens"] = sum(b.opens for b in breakers.values())
        out["breaker_half_opens"] = sum(b.half_opens for b in breakers.values())
        out["breaker_states"] = {u: b.state for u, b in breakers.items()}
        return out
