"""One HTTP exchange: the process gate, (connect, read) timeouts, one log line and the counters that
asset metadata reports (SPEC §3 "Validation and logging"); `RawResponse` is an accepted body."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter

from dc_pipeline.adapters.api_client.resilience import ProcessRequestGate

logger = logging.getLogger("dc_pipeline.adapters.api_client")


@dataclass(frozen=True)
class RawResponse:
    """An accepted body: its bytes, hash and parsed JSON, and who answered."""

    body: bytes
    sha256: str
    url: str  # base URL that answered ('' when served from the cache)
    status: int
    from_cache: bool = False
    data: Any = field(default=None, compare=False, repr=False)  # the body parsed as JSON

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    failovers: int = 0
    cache_hits: int = 0
    transport_errors: int = 0
    invalid_bodies: int = 0  # 2xx answers whose body was not JSON
    by_status: dict[int, int] = field(default_factory=dict)
    in_flight: int = 0
    peak_in_flight: int = 0


class HttpTransport:
    """Sends one request at a time per caller, under the process-wide gate, and counts what happened."""

    def __init__(
        self,
        session: requests.Session | None,
        gate: ProcessRequestGate,
        max_in_flight: int,
        timeout: float,
    ) -> None:
        self._session = session or requests.Session()
        adapter = HTTPAdapter(pool_maxsize=max(max_in_flight, 1), max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._gate = gate
        self._max_in_flight = max_in_flight
        self._timeout = timeout
        self._lock = threading.Lock()
        self._counters = Counters()

    def close(self) -> None:
        self._session.close()

    def send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        attempt: int,
        read_timeout: float | None = None,
    ) -> requests.Response:
        """One HTTP exchange; the body is read inside, so a truncated body surfaces here as a
        transport error. Logs URL, status, attempt and latency."""
        timeout = (min(5.0, self._timeout), read_timeout or self._timeout)
        shown = url + (f"?{urlencode(params)}" if params else "")
        with self._gate.slot(self._max_in_flight):
            self._enter()
            started = time.perf_counter()
            try:
                response = self._session.request(
                    method, url, params=params, headers=dict(headers), timeout=timeout, allow_redirects=False
                )
                _ = response.content
            except requests.RequestException as exc:
                ms = (time.perf_counter() - started) * 1000
                self.count(transport_errors=1)
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

    def _enter(self) -> None:
        with self._lock:
            self._counters.requests += 1
            self._counters.in_flight += 1
            self._counters.peak_in_flight = max(self._counters.peak_in_flight, self._counters.in_flight)

    def count(self, **increments: int) -> None:
        """Add to named counters, e.g. `count(retries=1)`."""
        with self._lock:
            for name, value in increments.items():
                setattr(self._counters, name, getattr(self._counters, name) + value)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            c = self._counters
            return {
                "requests": c.requests,
                "retries": c.retries,
                "failovers": c.failovers,
                "cache_hits": c.cache_hits,
                "transport_errors": c.transport_errors,
                "invalid_bodies": c.invalid_bodies,
                "responses_by_status": {str(k): v for k, v in sorted(c.by_status.items())},
                "peak_in_flight": c.peak_in_flight,
            }
