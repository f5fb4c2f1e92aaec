"""Reads what a report needs from the pipeline tables: scores over the project's time line, DQ."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.adapters import postgres
from dc_pipeline.defs.io_manager import read_table
from dc_pipeline.defs.scoring.assets import DC_SCORE_TABLES, from_tables
from dc_pipeline.domain.scoring import DcScores


def read_scores(conn, project_ids: list[int]) -> DcScores:
    tables = {t: read_table(conn, f"dc_core.{t}", {"project_id": project_ids}) for t in DC_SCORE_TABLES.values()}
    return from_tables(tables)


def read_metrics(conn, project_ids: list[int]) -> pd.DataFrame:
    return read_table(conn, "dc_staging.src_metrics", {"project_id": project_ids})


def read_dq(conn, project_id: int) -> dict | None:
    """{score, band, per_brand, quarantined_rows} of the project's latest validation, or None."""
    scores = read_table(conn, "dc_dq.dq_scores", {"project_id": [project_id]})
    if scores.empty:
        return None
    project_row = scores[scores["scope"] == "project"]
    if project_row.empty:
        return None
    per_brand = {f"b{int(r.brand_id)}": {"score": float(r.score), "band": r.band}
                 for r in scores[scores["scope"] == "brand"].itertuples()}
    quarantine = read_table(conn, "dc_dq.quarantine", {"project_id": [project_id]})
    by_rule = ({str(k): int(v) for k, v in quarantine.groupby("rule_id").size().items()}
               if len(quarantine) else {})
    return {"score": float(project_row["score"].iloc[0]), "band": project_row["band"].iloc[0],
            "per_brand": per_brand, "quarantined_rows": by_rule}


def data_versions(conn, tables: dict[str, list[int]]) -> dict[str, str]:
    """The data_version tags of the rows a report read, per table and project."""
    versions = {}
    for table, project_ids in tables.items():
        schema, name = table.split(".")
        if not postgres.table_exists(conn, table):
            continue
        rows = conn.execute(
            f'SELECT DISTINCT project_id, data_version FROM "{schema}"."{name}" WHERE project_id = ANY(%s)',
            (project_ids,)).fetchall()
        for project_id, version in rows:
            versions[f"{name}/p{project_id}"] = version
    return dict(sorted(versions.items()))
