"""One reader per stored thing: what assets, sensors, reports and the CLI read from the pipeline tables.

Each reader knows its table from `store.STORED` and returns frames without the run columns; a table not
materialized yet reads as empty.
"""

from __future__ import annotations

import pandas as pd
import psycopg
from psycopg import sql

from dc_pipeline.adapters.postgres import read_frame, read_table, table_exists
from dc_pipeline.adapters.store import DC_SCORE_FIELDS, REFRESH_HISTORY, STORED, scores_from_tables
from dc_pipeline.domain.reference import Reference
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS


def _where(project_ids, brand_ids=None) -> dict:
    where = {"project_id": [int(p) for p in project_ids]}
    if brand_ids is not None:
        where["brand_id"] = [int(b) for b in brand_ids]
    return where


def read_reference(conn: psycopg.Connection) -> Reference:
    """The last materialized reference snapshot."""
    stored = STORED["reference_snapshot"]
    return Reference.from_snapshot({t: read_table(conn, stored.qualified(t)) for t in stored.tables})


def read_dc_scores(conn: psycopg.Connection, project_ids, brand_ids=None) -> DcScores:
    """DC, section, platform and metric scores of the given projects (and brands)."""
    stored = STORED["dc_scores"]
    where = _where(project_ids, brand_ids)
    return scores_from_tables({t: read_table(conn, stored.qualified(t), where) for t in stored.tables})


def read_metric_definitions(conn: psycopg.Connection, project_ids) -> pd.DataFrame:
    """The landed metric definitions (src_metrics) of the given projects."""
    return read_table(conn, "dc_staging.src_metrics", _where(project_ids))


def read_validated_outcomes(conn: psycopg.Connection, project_ids, brand_ids=None) -> pd.DataFrame:
    """validated_outcomes rows; an empty frame with every outcome column when nothing is stored."""
    outcomes = read_table(conn, "dc_core.validated_outcomes", _where(project_ids, brand_ids))
    if outcomes.empty:
        return pd.DataFrame(columns=["project_id", "brand_id", "period", *OUTCOME_COLUMNS])
    outcomes["period"] = pd.to_datetime(outcomes["period"])
    return outcomes


def read_dq_summary(conn: psycopg.Connection, project_id: int) -> dict | None:
    """{score, band, per_brand, quarantined_rows} of the project's latest validation, or None."""
    stored = STORED["dq_results"]
    scores = read_table(conn, stored.qualified("dq_scores"), _where([project_id]))
    project_row = scores[scores["scope"] == "project"] if len(scores) else scores
    if project_row.empty:
        return None
    per_brand = {
        f"b{int(r.brand_id)}": {"score": float(r.score), "band": r.band}
        for r in scores[scores["scope"] == "brand"].itertuples()
    }
    quarantine = read_table(conn, stored.qualified("quarantine"), _where([project_id]))
    by_rule = quarantine["rule_id"].value_counts().sort_index() if len(quarantine) else pd.Series(dtype=int)
    return {
        "score": float(project_row["score"].iloc[0]),
        "band": project_row["band"].iloc[0],
        "per_brand": per_brand,
        "quarantined_rows": {str(k): int(v) for k, v in by_rule.items()},
    }


def read_outcome_model_results(conn: psycopg.Connection, project_id: int) -> pd.DataFrame:
    return read_table(conn, STORED["outcome_models"].qualified("outcome_model_results"), _where([project_id]))


def read_api_landing(conn: psycopg.Connection, project_id: int) -> dict[str, pd.DataFrame | None]:
    """The API-side inputs of quality rules K3 and K4 (values, weights, outcomes) as the api_* assets last
    landed them; None where nothing was landed (the Postgres path never waits for the API)."""
    wanted = {
        "api_values": ("dc_staging.api_normalized_values", ["brand_id", "metric_id", "period", "normalized_value"]),
        "api_weights": ("dc_staging.api_weights", ["metric_id", "weight"]),
        "api_outcomes": ("dc_staging.api_brand_outcomes", ["brand_id", "period", *OUTCOME_COLUMNS]),
    }
    inputs: dict[str, pd.DataFrame | None] = {}
    for name, (table, columns) in wanted.items():
        frame = read_table(conn, table, _where([project_id]))
        usable = len(frame) > 0 and all(c in frame.columns for c in columns)
        inputs[name] = frame[columns] if usable else None
    return inputs


def qualified_tables(asset: str) -> list[str]:
    """`schema.table` of every table an asset stores."""
    stored = STORED[asset]
    return [stored.qualified(t) for t in stored.tables or (asset,)]


def read_asset_tables(conn: psycopg.Connection, asset: str, project_ids, brand_ids=None) -> dict[str, pd.DataFrame]:
    """Every table of a stored multi-table asset (e.g. brand_forecasts), rows of the given projects (and brands)."""
    stored = STORED[asset]
    where = _where(project_ids, brand_ids)
    return {t: read_table(conn, stored.qualified(t), where) for t in stored.tables or (asset,)}


def read_partition_rows(conn: psycopg.Connection, asset: str, where: dict[str, list[int]]) -> dict[str, pd.DataFrame]:
    """Every table of an asset for the rows `where` selects, with the run_id and data_version that wrote them:
    what a partition rewrite is about to replace."""
    stored = STORED[asset]
    return {t: read_table(conn, stored.qualified(t), where, keep_run_columns=True) for t in stored.tables or (asset,)}


def read_brand_names(conn: psycopg.Connection) -> dict[int, str]:
    """brand_id -> brand_name from the last reference snapshot ({} before the first)."""
    brands = read_table(conn, STORED["reference_snapshot"].qualified("ref_brands"))
    return {int(r.brand_id): str(r.brand_name) for r in brands.itertuples()} if len(brands) else {}


def read_refresh_history(conn: psycopg.Connection, asset: str, project_ids, brand_ids=None) -> pd.DataFrame:
    """The history rows (store.REFRESH_HISTORY) recorded by the refreshes that wrote the asset's stored rows: for
    each partition, its changes against the materialization before. Empty after a first materialization."""
    history = REFRESH_HISTORY[asset]
    written = STORED[asset].qualified(history.written)
    if not (table_exists(conn, history.table) and table_exists(conn, written)):
        return pd.DataFrame()
    same_partition = sql.SQL(" AND ").join(
        sql.SQL("w.{c} = h.{c}").format(c=sql.Identifier(c)) for c in history.partition_columns
    )
    conditions = [sql.SQL("h.project_id = ANY({})").format(sql.Literal([int(p) for p in project_ids]))]
    if brand_ids is not None:
        conditions.append(sql.SQL("h.brand_id = ANY({})").format(sql.Literal([int(b) for b in brand_ids])))
    schema, name = history.table.split(".")
    w_schema, w_name = written.split(".")
    query = sql.SQL(
        "SELECT h.* FROM {}.{} h WHERE {} AND EXISTS (SELECT 1 FROM {}.{} w WHERE {} AND w.run_id = h.run_id)"
    ).format(
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(" AND ").join(conditions),
        sql.Identifier(w_schema),
        sql.Identifier(w_name),
        same_partition,
    )
    return read_frame(conn, query)


def read_brand_period_values(conn: psycopg.Connection, project_id: int, brand_id: int, period) -> pd.DataFrame:
    """validated_values rows of one brand-period (what dc_scores scored, with the source row id)."""
    values = read_table(
        conn, STORED["validated_values"].qualified("validated_values"), _where([project_id], [brand_id])
    )
    return values[pd.to_datetime(values["period"]) == pd.Timestamp(period)] if len(values) else values


def read_validated_metrics(conn: psycopg.Connection, project_id: int) -> pd.DataFrame:
    """The metric definitions dc_scores read for the project (active, passing V4 and U2)."""
    return read_table(conn, STORED["validated_metrics"].qualified("validated_metrics"), _where([project_id]))


def read_version_writers(conn: psycopg.Connection, table: str, project_id: int, version: str) -> dict:
    """Who wrote `version` of `schema.table` for the project: {"current": the version(s) its rows carry now,
    "runs": the run ids whose rows carry `version`, now or, for a table with a refresh history, in the past}."""
    if not table_exists(conn, table):
        return {"current": [], "runs": []}
    schema, name = table.split(".")
    rows = conn.execute(
        sql.SQL("SELECT DISTINCT data_version, run_id FROM {}.{} WHERE project_id = %s").format(
            sql.Identifier(schema), sql.Identifier(name)
        ),
        (project_id,),
    ).fetchall()
    runs = {run for v, run in rows if v == version}
    for asset, history in REFRESH_HISTORY.items():
        if table == STORED[asset].qualified(history.written) and table_exists(conn, history.table):
            h_schema, h_name = history.table.split(".")
            runs |= {
                r[0]
                for r in conn.execute(
                    sql.SQL("SELECT DISTINCT run_id FROM {}.{} WHERE project_id = %s AND data_version = %s").format(
                        sql.Identifier(h_schema), sql.Identifier(h_name)
                    ),
                    (project_id, version),
                ).fetchall()
            }
    return {"current": sorted({v for v, _ in rows}), "runs": sorted(runs)}


def read_data_versions(conn: psycopg.Connection, tables: dict[str, list[int]]) -> dict[str, str]:
    """The data_version tags of the rows of `schema.table` per project (`table/p<id>` -> version)."""
    versions = {}
    for table, project_ids in tables.items():
        if not table_exists(conn, table):
            continue
        schema, name = table.split(".")
        rows = conn.execute(
            f'SELECT DISTINCT project_id, data_version FROM "{schema}"."{name}" WHERE project_id = ANY(%s)',
            (list(project_ids),),
        ).fetchall()
        for project_id, version in rows:
            versions[f"{name}/p{project_id}"] = version
    return dict(sorted(versions.items()))


def read_latest_scores(conn: psycopg.Connection, project_ids) -> DcScores:
    """DC scores of every brand in the projects, with section and metric rows only at each project's latest
    scored periods (what cross-project comparisons read; a project's full history is not needed)."""
    stored = STORED["dc_scores"]
    brand_table = DC_SCORE_FIELDS["brands"]
    brands = read_table(conn, stored.qualified(brand_table), _where(project_ids))
    scored = brands[brands["dc_score"].notna()] if len(brands) else brands
    latest = scored.groupby(["project_id", "brand_id"])["period"].max() if len(scored) else []
    where = {**_where(project_ids), "period": sorted({pd.Timestamp(p).date() for p in latest})}
    tables = {t: read_table(conn, stored.qualified(t), where) for t in stored.tables if t != brand_table}
    return scores_from_tables({brand_table: brands, **tables})
