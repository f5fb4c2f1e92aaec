"""Reads the Digi-Cadence source tables (the pipeline never writes them)."""

from __future__ import annotations

import pandas as pd
import psycopg

from dc_pipeline.adapters.copy_csv import CsvValueError
from dc_pipeline.adapters.postgres import read_frame
from dc_pipeline.domain.source_tables import SOURCE_COLUMNS

REFERENCE_TABLES = ("projects", "categories", "brands", "project_brands")
PROJECT_TABLES = ("metrics", "normalisedvalue", "business_outcomes")
REQUIRED_TABLES = REFERENCE_TABLES + PROJECT_TABLES
# Per-project tables whose markers say a project changed (SPEC §11 source_change_sensor).
CHANGE_PROJECT_TABLES = ("normalisedvalue", "business_outcomes", "metrics", "project_brands")


class SourceSchemaError(RuntimeError):
    pass


class SourceReadError(RuntimeError):
    """A source table could not be read; the message names the table, the column and the value."""


def check_source_schema(conn: psycopg.Connection) -> None:
    """Fail with the missing tables/columns named, and the fix."""
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    ).fetchall()
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    problems = []
    for table in REQUIRED_TABLES:
        if table not in present:
            problems.append(f"table public.{table} is missing")
            continue
        missing = [c for c in (*SOURCE_COLUMNS[table], "updated_at") if c not in present[table]]
        if missing:
            problems.append(f"public.{table} lacks column(s) {', '.join(missing)}")
    if problems:
        raise SourceSchemaError(
            "the Digi-Cadence source schema is incomplete: "
            + "; ".join(problems)
            + ". Run `dc-pipeline db init` (creates absent tables) or point DATABASE_URL at the right database."
        )


def read_reference(conn: psycopg.Connection) -> dict[str, pd.DataFrame]:
    return {t: _read(conn, t, f"SELECT * FROM public.{t} ORDER BY 1, 2", None) for t in REFERENCE_TABLES}


def read_project_rows(conn: psycopg.Connection, table: str, project_ids: list[int]) -> pd.DataFrame:
    order = {"metrics": "metric_id", "normalisedvalue": "id", "business_outcomes": "project_id, brand_id, period"}[
        table
    ]
    query = f"SELECT * FROM public.{table} WHERE project_id IN {{ids}} ORDER BY {order}"
    return _read(conn, table, query, project_ids)


def read_values_by_id(conn: psycopg.Connection, ids: list[int]) -> pd.DataFrame:
    """public.normalisedvalue rows with the given ids (the source rows behind validated values)."""
    return read_frame(conn, "SELECT * FROM public.normalisedvalue WHERE id IN {ids} ORDER BY id", {"ids": list(ids)})


def metric_owners(conn: psycopg.Connection) -> dict[int, int | None]:
    """metric_id -> project_id over all of public.metrics (rule V2 names a foreign metric's project)."""
    return dict(conn.execute("SELECT metric_id, project_id FROM public.metrics").fetchall())


def _read(conn: psycopg.Connection, table: str, query: str, project_ids: list[int] | None) -> pd.DataFrame:
    scope = f"public.{table}" + (f" for project(s) {', '.join(map(str, project_ids))}" if project_ids else "")
    try:
        return read_frame(conn, query, {"ids": project_ids} if project_ids is not None else None)
    except CsvValueError as exc:
        raise SourceReadError(
            f"cannot read {scope}: {exc}. Correct that value in public.{table} (or set it to NULL, which "
            "quality then quarantines) and rerun."
        ) from exc
    except psycopg.Error as exc:
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SourceReadError(
            f"cannot read {scope}: {cause}. Check that the database is up and the pipeline's user may SELECT "
            f"from public.{table}."
        ) from exc


def table_markers(conn: psycopg.Connection, table: str, project_ids: list[int] | None = None) -> dict[str, list]:
    """[max(updated_at) iso, count] per project of a per-project table (all projects, or `project_ids`)."""
    where = "" if project_ids is None else " WHERE project_id = ANY(%s)"
    rows = conn.execute(
        f"SELECT project_id, max(updated_at), count(*) FROM public.{table}{where} GROUP BY project_id",
        () if project_ids is None else (list(project_ids),),
    ).fetchall()
    return {str(p): [ts.isoformat() if ts else None, n] for p, ts, n in rows}


def change_markers(conn: psycopg.Connection) -> dict[str, dict[str, list]]:
    """Per table and project: [max(updated_at) iso, count]; reference tables as a whole under '*'."""
    markers: dict[str, dict[str, list]] = {t: table_markers(conn, t) for t in CHANGE_PROJECT_TABLES}
    markers.update(reference_markers(conn))
    return markers


def reference_markers(conn: psycopg.Connection) -> dict[str, dict[str, list]]:
    """[max(updated_at) iso, count] of each whole reference table, under '*'."""
    markers = {}
    for table in ("projects", "brands", "categories"):
        ts, n = conn.execute(f"SELECT max(updated_at), count(*) FROM public.{table}").fetchone()
        markers[table] = {"*": [ts.isoformat() if ts else None, n]}
    return markers


def project_and_brand_ids(conn: psycopg.Connection) -> tuple[list[int], list[int]]:
    """Every project id and every brand id of the source tables (new dynamic partition keys)."""
    projects = [r[0] for r in conn.execute("SELECT project_id FROM public.projects ORDER BY 1").fetchall()]
    brands = [r[0] for r in conn.execute("SELECT brand_id FROM public.brands ORDER BY 1").fetchall()]
    return projects, brands


def active_project_ids(conn: psycopg.Connection) -> list[int]:
    """Projects with status `active` (the ones schedules pull, SPEC §2)."""
    rows = conn.execute("SELECT project_id FROM public.projects WHERE status = 'active' ORDER BY 1").fetchall()
    return [r[0] for r in rows]
