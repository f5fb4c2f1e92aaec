"""Collects every health component (SPEC §11) into one HealthSummary: used by system_health_sensor
and by `dc-pipeline status`. Each probe is bounded; none raises."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dc_pipeline.adapters import health_probes as probes
from dc_pipeline.adapters import postgres
from dc_pipeline.domain.operations import health as h
from dc_pipeline.domain.operations.freshness import KEY_ASSETS, SOURCE_FRESHNESS_HOURS

BACKUP_MAX_AGE_HOURS = 26.0


def _utc(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def last_materializations(instance: dg.DagsterInstance, keys: list[str]) -> dict[str, datetime | None]:
    """Time of the newest successful materialization of each asset (any partition)."""
    out = {}
    for key in keys:
        event = instance.get_latest_materialization_event(dg.AssetKey(key.split("/")))
        out[key] = _utc(event.timestamp) if event else None
    return out


def freshness_check(instance: dg.DagsterInstance | None, now: datetime, max_age_hours: float) -> h.ComponentCheck:
    if instance is None:
        return h.ComponentCheck("freshness", h.DOWN, "Dagster instance storage unreachable: ages unknown")
    try:
        last = last_materializations(instance, list(KEY_ASSETS))
    except Exception as exc:  # instance storage lives on the same server as the source db
        return h.ComponentCheck("freshness", h.DOWN, f"cannot read the instance: {type(exc).__name__}")
    return h.age_check("freshness", last, now, max_age_hours)


def daemon_check(instance: dg.DagsterInstance | None, now: datetime) -> h.ComponentCheck:
    if instance is None:
        return h.ComponentCheck("daemon", h.DOWN, "Dagster instance storage unreachable: heartbeat unknown")
    try:
        beats = instance.get_daemon_heartbeats()
    except Exception as exc:
        return h.ComponentCheck("daemon", h.DOWN, f"cannot read daemon heartbeats: {type(exc).__name__}")
    return h.heartbeat_check({k: _utc(v.timestamp) for k, v in beats.items()}, now)


def dq_component(url: str) -> h.ComponentCheck:
    """Latest DQ score and band per project (dc_dq.dq_scores, scope project)."""
    try:
        scores = probes.project_dq_scores(url)
    except postgres.DatabaseError:
        return h.ComponentCheck("dq", h.DOWN, "database unreachable: DQ scores unknown")
    return h.dq_check(scores)


def backup_component(url: str, now: datetime) -> h.ComponentCheck:
    """Last verified backup (dc_ops.backup_log) no older than 26 h."""
    try:
        last = probes.last_verified_backup_at(url)
    except postgres.DatabaseError:
        return h.ComponentCheck("backup", h.DOWN, "database unreachable: backup log unknown")
    return h.age_check("backup", {"db_backup": last}, now, BACKUP_MAX_AGE_HOURS, what="verified backup")


def collect_health(
    url: str,
    instance: dg.DagsterInstance | None,
    reports_root: Path,
    backup_dir: Path,
    logs_dir: Path,
    api_base_urls: list[str],
    now: datetime | None = None,
    freshness_hours: float = SOURCE_FRESHNESS_HOURS,
    probe_timeout_s: int = 5,
) -> h.HealthSummary:
    now = now or datetime.now(UTC)
    source = probes.probe_database(url, timeout_s=probe_timeout_s)
    reachable = source.state != h.DOWN
    components = [
        source,
        probes.probe_optuna(url, timeout_s=probe_timeout_s)
        if reachable
        else h.ComponentCheck("optuna_storage", h.DOWN, "its database is unreachable (see source_db)", critical=True),
        probes.probe_report_store(reports_root),
        probes.probe_api(api_base_urls, timeout_s=probe_timeout_s),
        h.disk_check(probes.free_fractions([reports_root, backup_dir, logs_dir])),
        freshness_check(instance if reachable else None, now, freshness_hours),
        dq_component(url) if reachable else h.ComponentCheck("dq", h.DOWN, "database unreachable: DQ unknown"),
        backup_component(url, now) if reachable else h.ComponentCheck("backup", h.DOWN, "database unreachable"),
        daemon_check(instance if reachable else None, now),
    ]
    return h.summarize(components, now)


def record_health(url: str, summary: h.HealthSummary) -> bool:
    """Append the evaluation to dc_ops.health_history; False when the database is unreachable."""
    import json

    try:
        with postgres.connect(url, connect_timeout=5) as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS dc_ops")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS dc_ops.health_history (checked_at timestamptz NOT NULL, "
                "status text NOT NULL, reasons jsonb NOT NULL, components jsonb NOT NULL)"
            )
            body = summary.to_dict()
            conn.execute(
                "INSERT INTO dc_ops.health_history VALUES (%s, %s, %s, %s)",
                (
                    summary.checked_at,
                    summary.status,
                    json.dumps(body["reasons"]),
                    json.dumps(body["components"], default=str),
                ),
            )
            conn.commit()
        return True
    except postgres.DatabaseError:
        return False
