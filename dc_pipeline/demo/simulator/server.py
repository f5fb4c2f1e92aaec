"""The simulator's HTTP server: one stdlib `ThreadingHTTPServer` per port, all answering from one
`ApiSimulator` (auth, routing, faults, request log)."""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from dc_pipeline.demo.simulator.data import HttpProblem, SimulatorData
from dc_pipeline.demo.simulator.faults import FaultKind, SimulatorFaults, body_bytes, violate_schema
from dc_pipeline.demo.simulator.routes import route
from dc_pipeline.demo.simulator.tokens import TokenSigner

logger = logging.getLogger("dc_pipeline.demo.simulator")


@dataclass(frozen=True)
class SimRequest:
    port: int
    method: str
    path: str
    status: int | None  # None: connection dropped
    outcome: str


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # idle keep-alive connections end instead of holding a thread forever
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    server: _SimServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("simulator %s: " + format, self.server.server_port, *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self.server.sim._handle(self, "GET")

    def do_POST(self) -> None:  # noqa: N802
        self.server.sim._handle(self, "POST")


class _SimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: ApiSimulator


class ApiSimulator:
    """Serve the SPEC §3 endpoints from `tables` on `ports` (0 = ephemeral) of 127.0.0.1.

    With `api_key` set, POST /auth/token requires it in `X-API-Key`, and data paths require a
    valid bearer token or, when no bearer token is presented, the API key. A presented bearer token
    that is expired or forged is answered 401 even if the API key is also sent.
    """

    def __init__(
        self,
        tables: Mapping[str, pd.DataFrame],
        *,
        ports: tuple[int, ...] | list[int] = (0,),
        secret_key: str,
        api_key: str | None = None,
        seed: int = 42,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data = SimulatorData(tables)
        self.faults = SimulatorFaults(seed)
        self.faults.drift_seed = seed
        self._requested_ports = list(ports)
        self._host = host
        self._api_key = api_key
        self._signer = TokenSigner(secret_key, clock)
        self._servers: list[_SimServer] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.log: list[SimRequest] = []
        self.tokens_issued = 0
        self._in_flight = 0
        self.peak_in_flight = 0

    def __repr__(self) -> str:
        return f"ApiSimulator(base_urls={self.base_urls}, auth={'api_key' if self._api_key else 'open'})"

    # -------------------------------------------------------------- lifecycle

    def start(self) -> ApiSimulator:
        if self._servers:
            return self
        for port in self._requested_ports:
            server = _SimServer((self._host, int(port)), _Handler)
            server.sim = self
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"dc-api-simulator-{server.server_port}",
                daemon=True,
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        logger.info("Digi-Cadence API simulator serving on %s", ", ".join(self.base_urls))
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> ApiSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ports(self) -> list[int]:
        return [s.server_port for s in self._servers]

    @property
    def base_urls(self) -> list[str]:
        return [f"http://{self._host}:{p}" for p in self.ports]

    # -------------------------------------------------------------- test helpers

    def mint_token(self, ttl_s: float | None = None) -> str:
        """A token signed like the ones /auth/token issues (e.g. for AUTH_TOKEN in tests)."""
        return self._signer.mint(self.faults.token_ttl if ttl_s is None else ttl_s)

    def set_value_override(self, project_id: int, brand_id: int, metric_id: int, period: str, value: float) -> None:
        """Serve `value` for one (project, brand, metric, period 'YYYY-MM-01'), with a fresh updated_at."""
        self.data.set_override(int(project_id), int(brand_id), int(metric_id), period, value)

    def clear_value_overrides(self) -> None:
        self.data.clear_overrides()

    def requests_to(self, path_prefix: str = "/", port: int | None = None) -> list[SimRequest]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(path_prefix) and (port is None or r.port == port)]

    # -------------------------------------------------------------- request handling

    def _record(self, port: int, method: str, path: str, status: int | None, outcome: str) -> None:
        with self._lock:
            self.log.append(SimRequest(port, method, path, status, outcome))

    def _handle(self, handler: _Handler, method: str) -> None:
        port = handler.server.server_port
        url = urlsplit(handler.path)
        path = url.path
        faults = self.faults
        if port in faults.down_ports:
            self._record(port, method, path, None, "port down")
            handler.close_connection = True
            return
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            if path != "/auth/token" and faults.latency_ms > 0:
                time.sleep(faults.latency_ms / 1000)
        finally:
            # Counted until the answer starts: a client may see the whole response (and send its next
            # request) before this thread returns from writing it, which must not count as overlap.
            with self._lock:
                self._in_flight -= 1
        self._answer(handler, method, port, path, parse_qs(url.query))

    def _answer(self, handler: _Handler, method: str, port: int, path: str, query: dict[str, list[str]]) -> None:
        """Missing paths, health and tokens first; then auth, the data body and its fault."""
        if any(path.startswith(p) for p in self.faults.missing_paths):
            return self._send(handler, port, method, path, 404, {"error": f"no such path: {path}"})
        if path == "/health" and method == "GET":
            status = int(self.faults.health_status)
            return self._send(handler, port, method, path, status, {"status": "ok" if status == 200 else "degraded"})
        if path == "/auth/token":
            if method != "POST":
                return self._send(handler, port, method, path, 405, {"error": "use POST"})
            return self._issue_token(handler, port, path)
        if method != "GET":
            return self._send(handler, port, method, path, 405, {"error": f"{method} not allowed"})
        problem = self._auth_problem(handler)
        if problem:
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return self._send(handler, port, method, path, 401, {"error": problem}, headers=headers)
        try:
            body = route(self.data, self.faults, path, query)
        except HttpProblem as exc:
            return self._send(handler, port, method, path, exc.status, {"error": exc.message})
        self._answer_data(handler, port, method, path, body)

    def _answer_data(self, handler: _Handler, port: int, method: str, path: str, body: Any) -> None:
        """The data body, or the fault `faults` decides for this request instead."""
        fault = self.faults.decide(port, path)
        if fault is None:
            return self._send(handler, port, method, path, 200, body)
        kind, status = fault
        if kind != "status":
            return self._send(handler, port, method, path, 200, body, body_fault=kind)
        headers = {}
        if status in (429, 503) and self.faults.retry_after is not None:
            headers["Retry-After"] = f"{self.faults.retry_after:g}"
        error = {"error": f"simulated HTTP {status}"}
        self._send(handler, port, method, path, status, error, headers=headers, outcome=f"fault {status}")

    def _auth_problem(self, handler: _Handler) -> str | None:
        if self._api_key is None:
            return None
        auth = handler.headers.get("Authorization", "")
        if auth:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not token:
                return "Authorization must be 'Bearer <token>'"
            return self._signer.check(token.strip())
        key = handler.headers.get("X-API-Key", "")
        if key and hmac.compare_digest(key, self._api_key):
            return None
        return "missing or invalid credentials: send a bearer token or X-API-Key"

    def _issue_token(self, handler: _Handler, port: int, path: str) -> None:
        key = handler.headers.get("X-API-Key", "")
        if self._api_key is None or not key or not hmac.compare_digest(key, self._api_key):
            return self._send(handler, port, "POST", path, 401, {"error": "invalid or missing X-API-Key"})
        ttl = float(self.faults.token_ttl)
        with self._lock:
            self.tokens_issued += 1
        token = {"access_token": self._signer.mint(ttl), "token_type": "bearer", "expires_in": ttl}
        self._send(handler, port, "POST", path, 200, token)

    def _send(
        self,
        handler: _Handler,
        port: int,
        method: str,
        path: str,
        status: int,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        body_fault: FaultKind | None = None,
        outcome: str = "ok",
    ) -> None:
        if body_fault == "drop_connection":
            self._record(port, method, path, None, "dropped")
            handler.close_connection = True
            return
        if body_fault == "schema_violation":
            body = violate_schema(body)
        payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
        payload, length = body_bytes(payload, body_fault)
        # Logged before the bytes go out, so a client that has its answer sees the log entry.
        self._record(port, method, path, status, body_fault or outcome)
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if body_fault == "truncated_body":
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()
        if body_fault == "truncated_body":
            handler.close_connection = True
