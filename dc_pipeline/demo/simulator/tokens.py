"""Bearer tokens of the simulator's POST /auth/token: HMAC-signed payloads with an expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Callable


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret_key: str, clock: Callable[[], float]) -> None:
        if not secret_key:
            raise ValueError("the simulator needs a non-empty SECRET_KEY to sign tokens")
        self._key = secret_key.encode()
        self._clock = clock
        self._counter = 0
        self._lock = threading.Lock()

    def mint(self, ttl_s: float) -> str:
        with self._lock:
            self._counter += 1
            jti = self._counter
        payload = _b64(json.dumps({"exp": self._clock() + ttl_s, "jti": jti}).encode())
        signature = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        return f"{payload}.{signature}"

    def check(self, token: str) -> str | None:
        """None when valid, else the reason."""
        payload, _, signature = token.partition(".")
        expected = _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())
        if not signature or not hmac.compare_digest(signature, expected):
            return "invalid token signature"
        try:
            exp = float(json.loads(_unb64(payload))["exp"])
        except (ValueError, KeyError, TypeError):
            return "malformed token"
        return "token expired" if exp <= self._clock() else None
