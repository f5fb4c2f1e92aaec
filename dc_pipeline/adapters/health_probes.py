"""Component probes for system health (SPEC §11): each one is bounded by a short timeout and
returns a ComponentCheck; none raises. Messages never contain a password (URLs are redacted)."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import psycopg

from dc_pipeline.adapters import ops_log, postgres
from dc_pipeline.adapters.postgres import redact_url
from dc_pipeline.domain.operations.health import DOWN, MISSING, OK, WARN, ComponentCheck
from dc_pipeline.domain.source_tables import SOURCE_COLUMNS

PROBE_TIMEOUT_S = 5


def _scrub(text: str, url: str) -> str:
    from urllib.parse import urlsplit

    first = (text.strip().splitlines() or [type(text).__name__])[0]
    password = urlsplit(url).password
    return first.replace(password, "***") if password else first


def probe_database(url: str, slow_s: float = 2.0, timeout_s: int = PROBE_TIMEOUT_S) -> ComponentCheck:
    """source_db (critical): `SELECT 1` latency, and the required source tables and columns."""
    started = time.perf_counter()
    try:
        with psycopg.connect(
            url, connect_timeout=timeout_s, autocommit=True, options=f"-c statement_timeout={timeout_s * 1000}"
        ) as conn:
            conn.execute("SELECT 1").fetchone()
            latency = time.perf_counter() - started
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            ).fetchall()
    except psycopg.Error as exc:
        return ComponentCheck(
            "source_db",
            DOWN,
            f"cannot reach {redact_url(url)}: {_scrub(str(exc), url)}",
            critical=True,
            measurements={"reachable": False},
        )
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    problems = [
        f"public.{t} missing" if t not in present else f"public.{t} lacks {', '.join(sorted(set(cols) - present[t]))}"
        for t, cols in SOURCE_COLUMNS.items()
        if t not in present or set(cols) - present[t]
    ]
    measurements = {"reachable": True, "latency_ms": round(latency * 1000, 1), "schema_problems": len(problems)}
    if problems:
        return ComponentCheck(
            "source_db",
            MISSING,
            "source schema incomplete: " + "; ".join(problems),
            critical=True,
            measurements=measurements,
        )
    if latency > slow_s:
        return ComponentCheck(
            "source_db",
            WARN,
            f"SELECT 1 took {latency:.2f} s (> {slow_s:g} s)",
            critical=True,
            measurements=measurements,
        )
    return ComponentCheck(
        "source_db",
        OK,
        f"reachable in {latency * 1000:.0f} ms, {len(SOURCE_COLUMNS)} source tables present",
        critical=True,
        measurements=measurements,
    )


def probe_optuna(url: str, timeout_s: int = PROBE_TIMEOUT_S) -> ComponentCheck:
    """optuna_storage (critical): connects and counts studies; no tables yet is fine."""
    try:
        with psycopg.connect(url, connect_timeout=timeout_s, autocommit=True) as conn:
            exists = conn.execute("SELECT to_regclass('optuna.studies') IS NOT NULL").fetchone()[0]
            count = conn.execute("SELECT count(*) FROM optuna.studies").fetchone()[0] if exists else 0
    except psycopg.Error as exc:
        return ComponentCheck(
            "optuna_storage", DOWN, f"cannot reach the Optuna storage: {_scrub(str(exc), url)}", critical=True
        )
    detail = f"{count} stud{'y' if count == 1 else 'ies'}" if exists else "no Optuna studies yet (tables not created)"
    return ComponentCheck("optuna_storage", OK, detail, critical=True, measurements={"studies": int(count)})


def probe_report_store(root: Path) -> ComponentCheck:
    """report_store (critical): writes and deletes a temporary file in REPORTS_DIR."""
    root = Path(root)
    probe = root / f".health-{uuid.uuid4().hex}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()
        return ComponentCheck("report_store", DOWN, f"cannot write to {root}: {exc.strerror or exc}", critical=True)
    return ComponentCheck("report_store", OK, f"{root} writable", critical=True)


def free_fractions(paths: Sequence[Path]) -> dict[str, float]:
    """Free share of the volume holding each folder (the nearest existing parent)."""
    out = {}
    for path in paths:
        target = Path(path).resolve()
        while not target.exists() and target != target.parent:
            target = target.parent
        usage = shutil.disk_usage(target)
        out[str(path)] = usage.free / usage.total if usage.total else 0.0
    return out


def probe_api(base_urls: Sequence[str], timeout_s: float = PROBE_TIMEOUT_S) -> ComponentCheck:
    """api: GET /health on each base URL (up / missing / down) through the API client, or with
    `requests` directly when the client cannot be built."""
    urls = [u.strip().rstrip("/") for u in base_urls if u and u.strip()]
    if not urls:
        return ComponentCheck("api", MISSING, "API_BASE_URLS is empty: no Digi-Cadence service configured")
    states = _probe_with_client(urls, timeout_s)
    if states is None:
        states = {u: _probe_with_requests(u, timeout_s) for u in urls}
    counts = {s: sum(1 for st, _ in states.values() if st == s) for s in ("up", "missing", "down")}
    measurements = {"services": {u: st for u, (st, _) in states.items()}, **counts}
    bad = [f"{u} {st} ({why})" for u, (st, why) in states.items() if st != "up"]
    summary = f"{counts['up']} up, {counts['missing']} missing, {counts['down']} down"
    if bad:
        return ComponentCheck(
            "api", WARN if counts["up"] else DOWN, summary + ": " + "; ".join(bad), measurements=measurements
        )
    return ComponentCheck("api", OK, summary, measurements=measurements)


def _probe_with_client(urls: list[str], timeout_s: float) -> dict[str, tuple[str, str]] | None:
    try:
        from dc_pipeline.adapters.api_client import ApiClientSettings, DigiCadenceClient

        client = DigiCadenceClient(ApiClientSettings(base_urls=tuple(urls), timeout=timeout_s, retry_attempts=0))
    except Exception:  # the client is optional here: fall back to plain requests
        return None
    with client:
        return {u: (s.status, s.detail) for u, s in ((u, client.health(u)) for u in urls)}


def _probe_with_requests(url: str, timeout_s: float) -> tuple[str, str]:
    import requests

    try:
        response = requests.get(f"{url}/health", timeout=timeout_s)
    except requests.RequestException as exc:
        return "down", type(exc).__name__
    if response.status_code == 404:
        return "missing", "HTTP 404"
    return ("up" if response.status_code == 200 else "down"), f"HTTP {response.status_code}"


def system_resources(paths: Sequence[Path]) -> dict[str, float]:
    """CPU and memory use of this machine (psutil) and the lowest free share over `paths`."""
    import psutil

    fractions = free_fractions(paths) if paths else {}
    return {
        "cpu_percent": float(psutil.cpu_percent(interval=0.5)),
        "memory_percent": float(psutil.virtual_memory().percent),
        "disk_free_fraction": min(fractions.values()) if fractions else None,
        "load_1m": float(os.getloadavg()[0]),
    }


def project_dq_scores(url: str) -> dict[str, tuple[float, str]]:
    """`p<id>` -> (score, band) of every validated project; {} before the first validation."""
    with postgres.connect(url, connect_timeout=5) as conn:
        if not postgres.table_exists(conn, "dc_dq.dq_scores"):
            return {}
        rows = conn.execute("SELECT project_id, score, band FROM dc_dq.dq_scores WHERE scope = 'project'").fetchall()
    return {f"p{p}": (float(s), b) for p, s, b in rows if s is not None}


def last_verified_backup_at(url: str):
    """Time of the newest verified backup in dc_ops.backup_log, or None."""

    with postgres.connect(url, connect_timeout=5) as conn:
        return ops_log.last_verified_backup(conn)[0]
