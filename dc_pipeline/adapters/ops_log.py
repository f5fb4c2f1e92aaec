"""dc_ops bookkeeping tables (backup log, maintenance log, incidents, DQ summaries) and the reads the operations
reports make of them and of the Optuna storage."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pandas as pd

from dc_pipeline.adapters import postgres, table_ddl

DDL = {
    "dc_ops.backup_log": "created_at timestamptz NOT NULL, dump_file text NOT NULL, sha256 text NOT NULL, "
    "size_bytes bigint, tables int, rows bigint, verified boolean NOT NULL, problems jsonb, "
    "removed jsonb, run_id text",
    "dc_ops.maintenance_log": "logged_at timestamptz NOT NULL DEFAULT now(), job text NOT NULL, task text NOT NULL, "
    "result jsonb NOT NULL, run_id text",
    "dc_ops.incidents": "opened_at timestamptz NOT NULL, status text NOT NULL, reasons jsonb NOT NULL, run_id text",
    "dc_ops.dq_summary": "summary_date date NOT NULL, project_id bigint NOT NULL, score double precision, band text, "
    "brands_poor int, run_id text",
}


def ensure(conn, table: str) -> None:
    table_ddl.create_if_missing(
        conn, table, f"CREATE SCHEMA IF NOT EXISTS dc_ops; CREATE TABLE IF NOT EXISTS {table} ({DDL[table]})"
    )


def log_task(conn, job: str, task: str, result: dict[str, Any], run_id: str | None) -> None:
    ensure(conn, "dc_ops.maintenance_log")
    conn.execute(
        "INSERT INTO dc_ops.maintenance_log (job, task, result, run_id) VALUES (%s, %s, %s, %s)",
        (job, task, json.dumps(result, default=str), run_id),
    )


# The logs whose passing canary validates a code version (SPEC §11): the post-deploy job, and `dc-pipeline demo`
# after it has materialized everything with that version.
VALIDATING_JOBS = ("post_deploy_validation_job", "dc-pipeline demo")


def last_validated_version(conn) -> str | None:
    """The code version of the latest passing canary of a validating job, None when there is none."""
    if not postgres.table_exists(conn, "dc_ops.maintenance_log"):
        return None
    row = conn.execute(
        "SELECT result->>'code_version' FROM dc_ops.maintenance_log WHERE task = 'canary' AND job = ANY(%s) "
        "AND result->>'status' = 'ok' ORDER BY logged_at DESC LIMIT 1",
        (list(VALIDATING_JOBS),),
    ).fetchone()
    return row[0] if row else None


def record_incident(conn, opened_at: str, status: str, reasons: list[str], run_id: str | None) -> None:
    ensure(conn, "dc_ops.incidents")
    conn.execute(
        "INSERT INTO dc_ops.incidents VALUES (%s, %s, %s, %s)", (opened_at, status, json.dumps(reasons), run_id)
    )


def record_backup(conn, result, verified: bool, problems: list[str], removed: list[str], run_id: str | None) -> None:
    """One dc_ops.backup_log row for a dump (`result`: adapters.backup.BackupResult)."""
    ensure(conn, "dc_ops.backup_log")
    conn.execute(
        "INSERT INTO dc_ops.backup_log VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            result.created_at,
            result.dump_path.name,
            result.sha256,
            result.size_bytes,
            len(result.fingerprints),
            int(result.fingerprints["rows"].sum()),
            verified,
            json.dumps(problems),
            json.dumps(removed),
            run_id,
        ),
    )


def last_verified_backup(conn) -> tuple[datetime | None, str | None]:
    """Time and file of the newest verified backup in dc_ops.backup_log (None when there is none)."""
    if not postgres.table_exists(conn, "dc_ops.backup_log"):
        return None, None
    row = conn.execute(
        "SELECT created_at, dump_file FROM dc_ops.backup_log WHERE verified ORDER BY created_at DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def write_dq_summary(conn, day: date, summary: pd.DataFrame, run_id: str | None) -> None:
    """Replace the day's dc_ops.dq_summary rows (project_id, score, band, brands_poor)."""
    ensure(conn, "dc_ops.dq_summary")
    conn.execute("DELETE FROM dc_ops.dq_summary WHERE summary_date = %s", (day,))
    postgres.copy_frame(
        conn,
        "dc_ops.dq_summary",
        summary.assign(summary_date=day, run_id=run_id),
        ["summary_date", "project_id", "score", "band", "brands_poor", "run_id"],
    )


def trial_counts(conn) -> pd.DataFrame:
    """Optuna trials by state (empty when the storage has no tables yet)."""
    if not postgres.table_exists(conn, "optuna.trials"):
        return pd.DataFrame()
    return postgres.read_frame(
        conn, "SELECT state, count(*) AS trials FROM optuna.trials GROUP BY state ORDER BY state"
    )


def dq_trend(conn, since: date) -> pd.DataFrame:
    """Per day since `since`: projects summarised, their mean DQ score and how many were poor."""
    if not postgres.table_exists(conn, "dc_ops.dq_summary"):
        return pd.DataFrame()
    return postgres.read_frame(
        conn,
        "SELECT summary_date, count(*) AS projects, round(avg(score)::numeric, 2) AS mean_score, "
        "sum((band = 'poor')::int) AS poor FROM dc_ops.dq_summary WHERE summary_date >= {since} "
        "GROUP BY summary_date ORDER BY summary_date",
        {"since": since},
    )
