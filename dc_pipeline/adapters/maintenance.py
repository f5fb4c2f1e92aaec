"""Maintenance tasks (SPEC §11), each a plain function of a connection / folders returning a result
dict for the maintenance log; the ops in jobs.py call them."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from psycopg import sql

from dc_pipeline.adapters import ops_log, postgres
from dc_pipeline.domain.operations.dq_summary import project_dq_summary
from dc_pipeline.domain.operations.retention import expired, expired_report_files, studies_to_delete
from dc_pipeline.domain.source_tables import SOURCE_COLUMNS

_STAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"


def _mtime(path: Path) -> pd.Timestamp:
    return pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")


def list_files(root: Path) -> pd.DataFrame:
    """Every regular file under root: path, modified_at (UTC)."""
    rows = [(str(p), _mtime(p)) for p in Path(root).rglob("*") if p.is_file()] if Path(root).is_dir() else []
    return pd.DataFrame(rows, columns=["path", "modified_at"])


def list_report_files(root: Path) -> pd.DataFrame:
    """Report files REPORTS_DIR/p<id>/<report_id>/<stamp>.<ext>: the time is the UTC stamp in the
    name (what the report store wrote), else the file's mtime."""
    rows = []
    for path in Path(root).glob("p*/*/*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        stem = path.name.split(".", 1)[0]
        try:
            when = pd.Timestamp(datetime.strptime(stem, _STAMP_FORMAT).replace(tzinfo=UTC))
        except ValueError:
            when = _mtime(path)
        rows.append((str(path), path.parent.parent.name, path.parent.name, path.name, when))
    return pd.DataFrame(rows, columns=["path", "partition", "report_id", "name", "modified_at"])


def _delete(paths) -> list[str]:
    removed = []
    for path in paths:
        try:
            os.remove(path)
            removed.append(str(path))
        except FileNotFoundError:
            pass
    return removed


def prune_logs(logs_dir: Path, now: datetime, retention_days: int) -> dict:
    files = list_files(logs_dir)
    removed = _delete(expired(files, now, retention_days)["path"])
    return {
        "folder": str(logs_dir),
        "files": len(files),
        "removed": len(removed),
        "removed_files": removed,
        "retention_days": retention_days,
    }


def prune_reports(reports_dir: Path, now: datetime, retention_days: int) -> dict:
    files = list_report_files(reports_dir)
    removed = _delete(expired_report_files(files, now, retention_days)["path"])
    return {
        "folder": str(reports_dir),
        "files": len(files),
        "removed": len(removed),
        "removed_files": removed,
        "retention_days": retention_days,
    }


def prune_api_cache(conn, ttl_s: int) -> dict:
    """Delete dc_staging.api_cache rows older than CACHE_TIMEOUT (epoch-seconds or timestamp column)."""
    if not postgres.table_exists(conn, "dc_staging.api_cache"):
        return {"removed": 0, "note": "no API cache table yet (dc_staging.api_cache)"}
    columns = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'dc_staging' "
            "AND table_name = 'api_cache'"
        ).fetchall()
    )
    column = next((c for c in ("fetched_at", "created_at", "stored_at", "updated_at") if c in columns), None)
    if column is None:
        return {
            "removed": 0,
            "note": f"dc_staging.api_cache has no time column (columns: {', '.join(sorted(columns))})",
        }
    cutoff = (
        sql.SQL("extract(epoch FROM now()) - {}")
        if not columns[column].startswith("timestamp")
        else sql.SQL("now() - make_interval(secs => {})")
    ).format(sql.Literal(ttl_s))
    deleted = conn.execute(
        sql.SQL("DELETE FROM dc_staging.api_cache WHERE {} < {}").format(sql.Identifier(column), cutoff)
    ).rowcount
    return {"removed": int(deleted), "ttl_s": ttl_s}


def analyze_tables(conn) -> dict:
    """ANALYZE the seven source tables and every pipeline table this role owns; the others are
    skipped with a reason (ANALYZE needs ownership or MAINTAIN)."""
    rows = conn.execute(
        "SELECT n.nspname, c.relname, pg_has_role(c.relowner, 'USAGE') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND "
        "((n.nspname = 'public' AND c.relname = ANY(%s)) OR n.nspname = ANY(%s)) ORDER BY 1, 2",
        (list(SOURCE_COLUMNS), list(postgres.PIPELINE_SCHEMAS)),
    ).fetchall()
    analyzed, skipped = [], []
    for schema, name, owned in rows:
        if not owned:
            skipped.append(f"{schema}.{name}")
            continue
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, name)))
        analyzed.append(f"{schema}.{name}")
    return {"analyzed": len(analyzed), "skipped_not_owner": skipped, "tables": analyzed}


def dq_summary(conn, today: datetime, run_id: str | None) -> tuple[dict, pd.DataFrame]:
    """Portfolio DQ assessment: the latest score and band per project and how many of its brands
    are poor, written to dc_ops.dq_summary for the day."""
    if not postgres.table_exists(conn, "dc_dq.dq_scores"):
        return {"status": "missing_input", "reason": "no DQ scores yet: dc_dq.dq_scores is absent"}, pd.DataFrame()
    scores = postgres.read_frame(conn, "SELECT project_id, scope, brand_id, score, band FROM dc_dq.dq_scores")
    summary = project_dq_summary(scores)
    ops_log.write_dq_summary(conn, today.date(), summary, run_id)
    result = {
        "projects": len(summary),
        "mean_score": round(float(summary["score"].mean()), 2) if len(summary) else None,
        "poor_projects": [f"p{int(p)}" for p in summary.loc[summary["band"] == "poor", "project_id"]],
    }
    return result, summary


def list_studies(conn) -> pd.DataFrame | None:
    """Optuna studies with their last trial activity; None when the storage has no tables yet."""
    if not postgres.table_exists(conn, "optuna.studies"):
        return None
    has_trials = postgres.table_exists(conn, "optuna.trials")
    activity = (
        "(SELECT max(coalesce(t.datetime_complete, t.datetime_start)) FROM optuna.trials t "
        "WHERE t.study_id = s.study_id)"
        if has_trials
        else "NULL::timestamp"
    )
    frame = postgres.read_frame(
        conn, f"SELECT s.study_id, s.study_name, {activity} AS last_activity FROM optuna.studies s ORDER BY s.study_id"
    )
    # Optuna stores naive UTC datetimes.
    frame["last_activity"] = (
        pd.to_datetime(frame["last_activity"]).dt.tz_localize("UTC")
        if len(frame) and frame["last_activity"].dt.tz is None
        else frame["last_activity"]
    )
    return frame


def referenced_studies(conn) -> set[str]:
    if not postgres.table_exists(conn, "dc_models.model_registry"):
        return set()
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'dc_models' AND table_name = 'model_registry'"
        )
    }
    if "study_name" not in columns:
        return set()
    return {
        r[0]
        for r in conn.execute("SELECT DISTINCT study_name FROM dc_models.model_registry WHERE study_name IS NOT NULL")
    }


def prune_optuna(conn, storage_url: str, now: datetime, retention_days: int) -> dict:
    """Delete studies past retention (SPEC §6d), keeping the 3 newest per (kind, project, brand,
    target) and any the model registry references."""
    studies = list_studies(conn)
    if studies is None:
        return {"removed": 0, "note": "no Optuna studies yet (schema optuna has no tables)"}
    doomed = studies_to_delete(studies, now, retention_days, keep_per_group=3, referenced=referenced_studies(conn))
    if len(doomed):
        import optuna

        storage = optuna.storages.RDBStorage(storage_url)
        for name in doomed["study_name"]:
            optuna.delete_study(study_name=name, storage=storage)
    return {
        "studies": len(studies),
        "removed": len(doomed),
        "removed_studies": list(doomed["study_name"]),
        "retention_days": retention_days,
    }


def optuna_storage_url(database_url: str) -> str:
    """OPTUNA_STORAGE_URL, else the database with search_path optuna (SPEC §10)."""
    configured = os.environ.get("OPTUNA_STORAGE_URL")
    if configured:
        return configured
    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url + ("&" if "?" in url else "?") + "options=-csearch_path%3Doptuna"
