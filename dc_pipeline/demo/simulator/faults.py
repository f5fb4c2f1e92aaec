"""Fault injection of the simulator: which fault a data request gets, and what a body fault does.

Kinds: `status` (an error status, with Retry-After for 429/503 when set), `drop_connection` (the
connection closes without an answer), `truncated_body` (Content-Length promises more than is
sent), `malformed_json` (a cut body whose Content-Length matches, so only the JSON parser sees
it), `schema_violation` (valid JSON of the wrong shape: the body, or its first record, loses its
first field).
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import numpy as np

FaultKind = Literal["status", "drop_connection", "truncated_body", "malformed_json", "schema_violation"]


class SimulatorFaults:
    """Fault switches, read per request. Assign attributes directly or call `update(**kw)`.

    Status and body faults hit data paths only (never /health or /auth/token) and can be narrowed
    with `fault_paths` (path prefixes) and `fault_ports`. `fail_next_n` takes precedence over
    the standing switches and `fail_rate`; the kind of a counted failure is `fail_kind`, its status
    `fail_status`.
    """

    def __init__(self, seed: int = 42) -> None:
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        self.fail_rate: float = 0.0
        self.fail_next_n: int = 0
        self.fail_status: int = 500
        self.fail_kind: FaultKind = "status"
        self.latency_ms: float = 0.0
        self.retry_after: float | None = None
        self.token_ttl: float = 3600.0
        self.down_ports: set[int] = set()
        self.malformed_json: bool = False
        self.truncated_body: bool = False
        self.drop_connection: bool = False
        self.schema_violation: bool = False
        self.missing_paths: set[str] = set()
        self.health_status: int = 200
        self.drift: float = 0.0
        self.drift_seed: int = 42
        self.fault_paths: set[str] | None = None
        self.fault_ports: set[int] | None = None

    def update(self, **changes: Any) -> None:
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self, name) or name.startswith("_"):
                    raise AttributeError(f"unknown simulator fault {name!r}")
                setattr(self, name, value)

    def decide(self, port: int, path: str) -> tuple[FaultKind, int] | None:
        """The fault for this data request, if any (consumes one `fail_next_n`)."""
        with self._lock:
            if self.fault_ports is not None and port not in self.fault_ports:
                return None
            if self.fault_paths is not None and not any(path.startswith(p) for p in self.fault_paths):
                return None
            if self.fail_next_n > 0:
                self.fail_next_n -= 1
                return self.fail_kind, self.fail_status
            for kind in ("drop_connection", "truncated_body", "malformed_json", "schema_violation"):
                if getattr(self, kind):
                    return kind, 0
            if self.fail_rate > 0 and self._rng.random() < self.fail_rate:
                return "status", self.fail_status
            return None


def violate_schema(body: Any) -> Any:
    """The body with its first field removed - of its first record when it is an array."""
    if isinstance(body, list):
        return [violate_schema(body[0]), *body[1:]] if body else body
    if isinstance(body, dict) and body:
        first = next(iter(body))
        return {k: v for k, v in body.items() if k != first}
    return body


def body_bytes(payload: bytes, kind: FaultKind | None) -> tuple[bytes, int]:
    """(bytes to send, Content-Length to announce) for a serialised body under a body fault."""
    if kind == "malformed_json":
        cut = payload[: max(1, len(payload) // 2)]  # a cut that still matches Content-Length
        return cut, len(cut)
    if kind == "truncated_body":
        return payload[: len(payload) // 2], len(payload)  # Content-Length promises more than is sent
    return payload, len(payload)
