"""`dc_models.model_registry` and the joblib artifacts of fitted models (SPEC §6).

A model's id is its study name (kind|project|brand|target|data_version[:12]): refitting the same
data replaces the entry and the artifact, new data adds a new entry, so the registry keeps the
history of fits across data versions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import psycopg
from psycopg.rows import dict_row

from dc_pipeline.adapters import table_ddl

REGISTRY_TABLE = "dc_models.model_registry"

_DDL = """
CREATE SCHEMA IF NOT EXISTS dc_models;
CREATE TABLE IF NOT EXISTS dc_models.model_registry (
    model_id text PRIMARY KEY,
    kind text NOT NULL,
    project_id bigint NOT NULL,
    brand_id bigint,
    target text NOT NULL,
    study_name text,
    status text NOT NULL,
    validated boolean NOT NULL DEFAULT false,
    best_params jsonb,
    cv_metrics jsonb,
    data_version text,
    code_version text,
    artifact_path text,
    run_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS model_registry_scope ON dc_models.model_registry (kind, project_id, brand_id, target);
"""

COLUMNS = (
    "model_id",
    "kind",
    "project_id",
    "brand_id",
    "target",
    "study_name",
    "status",
    "validated",
    "best_params",
    "cv_metrics",
    "data_version",
    "code_version",
    "artifact_path",
    "run_id",
)


@dataclass
class RegistryEntry:
    model_id: str
    kind: str
    project_id: int
    brand_id: int | None
    target: str
    study_name: str | None
    status: str
    validated: bool = False
    best_params: dict[str, Any] = field(default_factory=dict)
    cv_metrics: dict[str, Any] = field(default_factory=dict)
    data_version: str | None = None
    code_version: str | None = None
    artifact_path: str | None = None
    run_id: str | None = None


def ensure_registry(conn: psycopg.Connection) -> None:
    table_ddl.create_if_missing(conn, REGISTRY_TABLE, _DDL)


def artifact_path(models_dir: Path, model_id: str) -> Path:
    """A file name safe on every file system, readable by kind and target, unique by hash."""
    kind, project, brand, target, version = (model_id.split("|") + ["", "", "", "", ""])[:5]
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:12]
    return models_dir / kind / f"p{project}" / f"{brand}_{target}_{version}_{digest}.joblib"


def save_artifact(models_dir: Path, model_id: str, model: Any) -> Path:
    path = artifact_path(Path(models_dir), model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)  # readers never see a half-written artifact
    return path


def load_artifact(path: str | Path) -> Any:
    return joblib.load(path)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def register(conn: psycopg.Connection, entries: list[RegistryEntry]) -> int:
    """Upsert entries by model_id (in the caller's transaction). Returns the number written."""
    if not entries:
        return 0
    ensure_registry(conn)
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "model_id")
    statement = (
        f"INSERT INTO {REGISTRY_TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders}) "
        f"ON CONFLICT (model_id) DO UPDATE SET {updates}, created_at = now()"
    )
    with conn.cursor() as cur:
        cur.executemany(
            statement,
            [
                (
                    e.model_id,
                    e.kind,
                    int(e.project_id),
                    None if e.brand_id is None else int(e.brand_id),
                    e.target,
                    e.study_name,
                    e.status,
                    bool(e.validated),
                    _json(e.best_params),
                    _json(e.cv_metrics),
                    e.data_version,
                    e.code_version,
                    e.artifact_path,
                    e.run_id,
                )
                for e in entries
            ],
        )
    return len(entries)


def entries_for(conn: psycopg.Connection, kind: str, project_id: int, brand_id: int | None = None) -> list[dict]:
    """Registry rows of one scope, newest first."""
    ensure_registry(conn)
    brand_clause = "brand_id IS NULL" if brand_id is None else "brand_id = %s"
    params = (kind, project_id) if brand_id is None else (kind, project_id, brand_id)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT * FROM {REGISTRY_TABLE} WHERE kind = %s AND project_id = %s AND {brand_clause} "
            "ORDER BY created_at DESC, model_id",
            params,
        ).fetchall()


def referenced_study_names(conn: psycopg.Connection) -> set[str]:
    """Studies a registry entry points to: kept by the Optuna cleanup (SPEC §6d)."""
    ensure_registry(conn)
    return {
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT study_name FROM {REGISTRY_TABLE} WHERE study_name IS NOT NULL"
        ).fetchall()
    }
