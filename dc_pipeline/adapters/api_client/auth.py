"""Credentials: the `Secret` wrapper and the bearer-token manager (SPEC §3 "Auth").

The token manager holds every secret the client has seen, so it is also the one that scrubs them
from text (`redact`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from dc_pipeline.adapters.api_models import TokenResponse


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


def secret_or_none(value: str | Secret | None) -> Secret | None:
    """A Secret for a non-blank string; None for None or blank."""
    if value is None or isinstance(value, Secret):
        return value
    return Secret(value) if value.strip() else None


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

    def redact(self, text: str) -> str:
        """`text` with every known secret (API key, any token seen) replaced by ***."""
        for secret in self.secrets():
            if len(secret) >= 4:
                text = text.replace(secret, "***")
        return text
