"""Local Digi-Cadence API simulator (SPEC §3 "Simulator").

A real HTTP/1.1 server (stdlib `ThreadingHTTPServer`) on one or more 127.0.0.1 ports; every port
serves every SPEC path from the same source tables (the contracts' frame shapes). Tokens from
POST /auth/token are HMAC-signed with the given secret key. `faults` is mutated by tests at run
time to inject latency, error statuses, 429 + Retry-After, token expiry, malformed JSON, truncated
bodies, dropped connections, down ports, missing paths and seeded value drift.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS

logger = logging.getLogger("dc_pipeline.demo.simulator")

ANALYTICS_PATHS = ("/analytics/metrics", "/get_analytics", "/analytics")
FaultKind = Literal["status", "drop_connection", "truncated_body", "malformed_json"]


class HttpProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ----------------------------------------------------------------------------------- faults


class SimulatorFaults:
    """Fault switches, read per request. Assign attributes directly or call `update(**kw)`.

    Status and body faults hit data paths only (never /health or /auth/token) and can be narrowed
    with `fault_paths` (path prefixes) and `fault_ports`. `fail_next_n` takes precedence over
    `fail_rate`; the kind of a counted failure is `fail_kind`, its status `fail_status`.
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
            if self.drop_connection:
                return "drop_connection", 0
            if self.truncated_body:
                return "truncated_body", 0
            if self.malformed_json:
                return "malformed_json", 0
            if self.fail_rate > 0 and self._rng.random() < self.fail_rate:
                return "status", self.fail_status
            return None


@dataclass(frozen=True)
class SimRequest:
    port: int
    method: str
    path: str
    status: int | None  # None: connection dropped
    outcome: str


# ----------------------------------------------------------------------------------- data


def _iso_date(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.strftime("%Y-%m-%d")


def _iso_ts(series: pd.Series) -> pd.Series:
    ts = pd.to_datetime(series, utc=True)
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts: NaN -> None, numpy scalars -> Python."""
    out = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()} for row in out.to_dict("records")
    ]


class SimulatorData:
    """Builds the SPEC §3 bodies from the source tables; overrides and drift applied per call."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        missing = [t for t in ("projects", "brands", "project_brands", "metrics", "normalisedvalue") if t not in tables]
        if missing:
            raise ValueError(f"simulator tables missing: {', '.join(missing)}")
        self.tables = dict(tables)
        self._overrides: dict[tuple[int, int, int, str], tuple[float, str]] = {}
        self._joined: dict[int, pd.DataFrame] = {}
        self._lock = threading.Lock()

    def set_override(self, project_id: int, brand_id: int, metric_id: int, period: str, value: float) -> None:
        stamp = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock:
            self._overrides[(project_id, brand_id, metric_id, period)] = (float(value), stamp)

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()

    def _project(self, project_id: int) -> pd.Series:
        projects = self.tables["projects"]
        rows = projects[projects["project_id"] == project_id]
        if rows.empty:
            raise HttpProblem(404, f"project {project_id} not found")
        return rows.iloc[0]

    def _metrics(self, project_id: int) -> pd.DataFrame:
        metrics = self.tables["metrics"]
        return metrics[metrics["project_id"] == project_id].sort_values("metric_id")

    def normalized(self, project_id: int, drift: float, drift_seed: int) -> list[dict[str, Any]]:
        self._project(project_id)
        with self._lock:
            base = self._joined.get(project_id)
        if base is None:
            base = self._join_names(project_id)
            with self._lock:
                self._joined[project_id] = base
        out = base.copy()
        if drift > 0 and len(out):
            rng = np.random.default_rng([drift_seed, project_id])
            hit = rng.random(len(out)) < drift
            shift = rng.uniform(5, 15, len(out)) * rng.choice([-1.0, 1.0], len(out))
            out.loc[hit, "normalized"] = np.clip(out.loc[hit, "normalized"] + shift[hit], 0, 100)
        with self._lock:
            overrides = {k: v for k, v in self._overrides.items() if k[0] == project_id}
        for (_, b, m, period), (value, stamp) in overrides.items():
            mask = (out["brand_id"] == b) & (out["metric_id"] == m) & (out["period"] == period)
            out.loc[mask, "normalized"] = value
            if "updated_at" in out:
                out.loc[mask, "updated_at"] = stamp
        return _records(out)

    def _join_names(self, project_id: int) -> pd.DataFrame:
        """The project's rows with names joined in (tables are static, so this is cached)."""
        nv = self.tables["normalisedvalue"]
        nv = nv[nv["project_id"] == project_id]
        metrics = self.tables["metrics"][["metric_id", "metric_name", "section_name", "platform_name"]]
        brands = self.tables["brands"][["brand_id", "brand_name"]]
        # The service joins names in; rows whose metric or brand is unknown cannot be named.
        rows = nv.merge(metrics, on="metric_id", how="inner").merge(brands, on="brand_id", how="inner")
        rows = rows.sort_values(["brand_id", "metric_id", "period", "id"], kind="stable").reset_index(drop=True)
        out = pd.DataFrame(
            {
                "metricname": rows["metric_name"],
                "sectionName": rows["section_name"],
                "platformname": rows["platform_name"],
                "brandName": rows["brand_name"],
                "normalized": rows["normalized_value"].astype(float),
                "project_id": rows["project_id"],
                "brand_id": rows["brand_id"],
                "metric_id": rows["metric_id"],
                "period": _iso_date(rows["period"]),
            }
        )
        if "updated_at" in rows:
            out["updated_at"] = _iso_ts(rows["updated_at"])
        return out

    def project_meta(self, project_id: int) -> dict[str, Any]:
        project = self._project(project_id)
        metrics = self._metrics(project_id)
        body: dict[str, Any] = {
            "project_id": int(project["project_id"]),
            "project_name": project["project_name"],
            "description": None if pd.isna(project.get("description")) else project.get("description"),
        }
        for stamp in ("created_at", "updated_at"):
            if stamp in project.index and not pd.isna(project[stamp]):
                body[stamp] = pd.Timestamp(project[stamp]).strftime("%Y-%m-%dT%H:%M:%SZ")
        body["metrics"] = [
            {
                "metric_id": int(m.metric_id),
                "section": {"name": m.section_name},
                "platform": {"name": m.platform_name},
                "metric_new_name": m.metric_name,
                "weights": float(m.weight),
                "metric_type": m.metric_type,
            }
            for m in metrics.itertuples()
        ]
        categories = self.tables.get("categories")
        if categories is not None and not pd.isna(project.get("category_id")):
            cat = categories[categories["category_id"] == project["category_id"]]
            body["categories"] = _records(cat[["category_id", "category_name"]])
        body["platforms"] = sorted(metrics["platform_name"].unique().tolist())
        return {"project": body}

    def weight_sum(self, project_id: int) -> dict[str, Any]:
        self._project(project_id)
        metrics = self._metrics(project_id)
        sums = metrics.groupby("section_name")["weight"].sum()
        weight_sum = {s: float(sums[s]) for s in SECTIONS if s in sums.index}
        weight_sum.update({s: float(v) for s, v in sums.items() if s not in weight_sum})
        weight_sum["total"] = float(metrics["weight"].sum())
        return {
            "project_id": project_id,
            "weights": [
                {
                    "section": m.section_name,
                    "platform": m.platform_name,
                    "metric": m.metric_name,
                    "weight": float(m.weight),
                }
                for m in metrics.itertuples()
            ],
            "weight_sum": weight_sum,
        }

    def insights(self, project_id: int) -> dict[str, Any]:
        """Per brand: mean normalized value per section in its latest period (computed, opaque)."""
        records = pd.DataFrame(self.normalized(project_id, 0.0, 0))
        brands: list[dict[str, Any]] = []
        if not records.empty:
            for name, group in records.groupby("brandName", sort=True):
                latest = group["period"].max()
                last = group[group["period"] == latest]
                means = last.groupby("sectionName")["normalized"].mean().round(4)
                brands.append(
                    {
                        "brandName": name,
                        "latest_period": latest,
                        "n_values": int(len(group)),
                        "section_means": {k: float(v) for k, v in means.items() if not pd.isna(v)},
                    }
                )
        return {"project_id": project_id, "n_records": int(len(records)), "brands": brands}

    def brand_data(self, brand_id: int, project_id: int, drift: float, drift_seed: int) -> dict[str, Any]:
        self._project(project_id)
        brands = self.tables["brands"]
        brand = brands[brands["brand_id"] == brand_id]
        if brand.empty:
            raise HttpProblem(404, f"brand {brand_id} not found")
        pb = self.tables["project_brands"]
        member = pb[(pb["project_id"] == project_id) & (pb["brand_id"] == brand_id)]
        if member.empty:
            raise HttpProblem(404, f"brand {brand_id} is not a member of project {project_id}")
        brand_row = brand.iloc[0]
        category: dict[str, Any] = {"category_id": int(brand_row["category_id"]), "category_name": ""}
        categories = self.tables.get("categories")
        if categories is not None:
            cat = categories[categories["category_id"] == brand_row["category_id"]]
            if not cat.empty:
                category["category_name"] = cat.iloc[0]["category_name"]
        body: dict[str, Any] = {
            "brand_id": brand_id,
            "brand_name": brand_row["brand_name"],
            "project_id": project_id,
            "category": category,
            "role": member.iloc[0]["role"],
            "business_outcomes": [],
        }
        outcomes = self.tables.get("business_outcomes")
        if outcomes is not None:
            rows = outcomes[(outcomes["project_id"] == project_id) & (outcomes["brand_id"] == brand_id)]
            rows = rows.sort_values("period")
            cols = [c for c in OUTCOME_COLUMNS if c in rows]
            values = rows[cols].astype(float).to_numpy(copy=True)
            if drift > 0 and values.size:
                rng = np.random.default_rng([drift_seed, project_id, brand_id])
                hit = (rng.random(values.shape) < drift) & ~np.isnan(values)
                factor = 1 + rng.uniform(0.1, 0.3, values.shape) * rng.choice([-1.0, 1.0], values.shape)
                values = np.where(hit, values * factor, values)
            frame = pd.DataFrame(values, columns=cols)
            frame.insert(0, "period", _iso_date(rows["period"]).to_numpy())
            body["business_outcomes"] = _records(frame)
        return body

    def analytics(self, project_id: int) -> dict[str, Any]:
        records = pd.DataFrame(self.normalized(project_id, 0.0, 0))
        metrics: list[dict[str, Any]] = []
        if not records.empty:
            stats = records.groupby(["metric_id", "metricname", "sectionName", "platformname"])["normalized"].agg(
                ["count", "mean", "std", "min", "max"]
            )
            for (metric_id, name, section, platform), row in stats.iterrows():
                metrics.append(
                    {
                        "metric_id": int(metric_id),
                        "metricname": name,
                        "sectionName": section,
                        "platformname": platform,
                        "n_values": int(row["count"]),
                        **{
                            k: (None if pd.isna(row[k]) else round(float(row[k]), 6))
                            for k in ("mean", "std", "min", "max")
                        },
                    }
                )
        return {"project_id": project_id, "metrics": metrics}


# ----------------------------------------------------------------------------------- tokens


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


# ----------------------------------------------------------------------------------- server


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
            handler_headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return self._send(handler, port, method, path, 401, {"error": problem}, headers=handler_headers)
        try:
            body = self._route(path, query)
        except HttpProblem as exc:
            return self._send(handler, port, method, path, exc.status, {"error": exc.message})
        fault = self.faults.decide(port, path)
        if fault is None:
            return self._send(handler, port, method, path, 200, body)
        kind, status = fault
        if kind == "status":
            headers = {}
            if status in (429, 503) and self.faults.retry_after is not None:
                headers["Retry-After"] = f"{self.faults.retry_after:g}"
            return self._send(
                handler,
                port,
                method,
                path,
                status,
                {"error": f"simulated HTTP {status}"},
                headers=headers,
                outcome=f"fault {status}",
            )
        return self._send(handler, port, method, path, 200, body, body_fault=kind)

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
        self._send(
            handler,
            port,
            "POST",
            path,
            200,
            {"access_token": self._signer.mint(ttl), "token_type": "bearer", "expires_in": ttl},
        )

    def _route(self, path: str, query: dict[str, list[str]]) -> Any:
        def int_param(name: str) -> int:
            raw = (query.get(name) or [""])[0]
            try:
                return int(raw.split(",")[0])
            except ValueError:
                raise HttpProblem(400, f"query parameter {name} must be an integer, got {raw!r}") from None

        faults = self.faults
        if path == "/normalized/normalized_value":
            raw = (query.get("project_ids") or [""])[0]
            try:
                ids = [int(x) for x in raw.split(",") if x.strip()]
            except ValueError:
                raise HttpProblem(400, f"project_ids must be comma-separated integers, got {raw!r}") from None
            if not ids:
                raise HttpProblem(400, "project_ids is required")
            return [r for pid in ids for r in self.data.normalized(pid, faults.drift, faults.drift_seed)]
        if path.rstrip("/") == "/api/v1/project/get-project":
            return self.data.project_meta(int_param("project_id"))
        if path == "/weight_sum":
            return self.data.weight_sum(int_param("project_id"))
        if path == "/get_multi_data":
            return self.data.insights(int_param("project_id"))
        if path in ANALYTICS_PATHS:
            return self.data.analytics(int_param("project_id"))
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "brands" and parts[2] == "project_id":
            try:
                brand_id, project_id = int(parts[1]), int(parts[3])
            except ValueError:
                raise HttpProblem(400, f"brand and project ids must be integers in {path}") from None
            return self.data.brand_data(brand_id, project_id, faults.drift, faults.drift_seed)
        raise HttpProblem(404, f"no such path: {path}")

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
        payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
        length = len(payload)
        if body_fault == "malformed_json":
            payload = payload[: max(1, len(payload) // 2)]  # a cut that still matches Content-Length
            length = len(payload)
        elif body_fault == "truncated_body":
            payload = payload[: len(payload) // 2]  # Content-Length promises more than is sent
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
