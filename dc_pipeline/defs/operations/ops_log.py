"""dc_ops bookkeeping tables: backup log, maintenance log, incidents, DQ summaries."""

from __future__ import annotations

import json
from typing import Any

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
    conn.execute("CREATE SCHEMA IF NOT EXISTS dc_ops")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({DDL[table]})")


def log_task(conn, job: str, task: str, result: dict[str, Any], run_id: str | None) -> None:
    ensure(conn, "dc_ops.maintenance_log")
    conn.execute(
        "INSERT INTO dc_ops.maintenance_log (job, task, result, run_id) VALUES (%s, %s, %s, %s)",
        (job, task, json.dumps(result, default=str), run_id),
    )
