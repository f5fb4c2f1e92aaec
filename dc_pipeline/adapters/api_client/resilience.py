"""Resilience policy of SPEC §3: backoff with seeded jitter and Retry-After, one circuit breaker per
base URL, round-robin failover over the URLs whose circuit admits a request, and the process-wide
cap on requests in flight.

Hand-written rather than tenacity or urllib3's Retry: neither fails over to the next replica on a
retry nor shares a breaker per URL, and urllib3's jitter is not seeded; the policy is small enough
to read in one screen.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BreakerState = Literal["closed", "open", "half_open"]


# ----------------------------------------------------------------------------------- backoff


class Backoff:
    """Delay before retry k: `min(max_backoff, retry_delay·2^k)·U(0.5, 1.5)` drawn from a seeded
    generator, or the server's Retry-After (capped at `max_retry_after_s`) when that is larger."""

    def __init__(self, retry_delay: float, max_backoff_s: float, max_retry_after_s: float, seed: int) -> None:
        self.retry_delay = retry_delay
        self.max_backoff_s = max_backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()

    def delay(self, retry_index: int, retry_after: float | None = None) -> float:
        with self._lock:
            jitter = float(self._rng.uniform(0.5, 1.5))
        delay = min(self.max_backoff_s, self.retry_delay * 2**retry_index) * jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after_s))
        return delay


def retry_after_seconds(header: str | None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date); None if absent or unreadable."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


# ----------------------------------------------------------------------------------- breaker


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


class Failover:
    """Round-robin over a service's base URLs, skipping those whose circuit is open; one breaker per URL."""

    def __init__(self, failure_threshold: int, cooldown_s: float, clock: Callable[[], float]) -> None:
        self._failure_threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._next: dict[tuple[str, ...], int] = {}

    def breaker(self, url: str) -> CircuitBreaker:
        with self._lock:
            if url not in self._breakers:
                self._breakers[url] = CircuitBreaker(self._failure_threshold, self._cooldown_s, self._clock)
            return self._breakers[url]

    def breakers(self) -> dict[str, CircuitBreaker]:
        with self._lock:
            return dict(self._breakers)

    def pick(self, urls: tuple[str, ...]) -> str | None:
        """Next URL in round-robin order whose circuit admits a request; None when all are open."""
        with self._lock:
            start = self._next.get(urls, 0)
        for i in range(len(urls)):
            idx = (start + i) % len(urls)
            if self.breaker(urls[idx]).allow():
                with self._lock:
                    self._next[urls] = idx + 1
                return urls[idx]
        return None


# ----------------------------------------------------------------------------------- concurrency


class ProcessRequestGate:
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


PROCESS_REQUEST_GATE = ProcessRequestGate()
