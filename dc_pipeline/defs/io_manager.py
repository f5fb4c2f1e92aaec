"""Partition-aware Postgres IO manager (SPEC §0, DESIGN "Where data lives").

An asset's output is a DataFrame (one table named after the asset) or a dict of DataFrames
(table name -> frame) for assets that own several tables. The asset declares its schema and
tables in definition metadata (`dc/schema`, optional `dc/tables`). On output, in one
transaction, the rows of the run's partitions are deleted and the new rows COPYed in, each
tagged with run_id and data_version: reruns replace, never duplicate; a crash leaves the old rows.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.adapters import postgres
from dc_pipeline.defs.partition_scope import partition_filter
from dc_pipeline.defs.resources import PostgresResource

RUN_COLUMNS = ("run_id", "data_version")


def frame_data_version(frame: pd.DataFrame) -> str:
    """sha256 over the frame's canonical rows (sorted columns, order-independent rows)."""
    if frame.empty:
        return "sha256:" + hashlib.sha256(b"empty:" + ",".join(sorted(frame.columns)).encode()).hexdigest()
    ordered = frame[sorted(frame.columns)]
    hashable = ordered.astype({c: str for c in ordered.columns if ordered[c].dtype == object})
    row_hashes = np.sort(pd.util.hash_pandas_object(hashable, index=False).to_numpy())
    digest = hashlib.sha256(",".join(sorted(frame.columns)).encode())
    digest.update(row_hashes.tobytes())
    return "sha256:" + digest.hexdigest()


def _tables(context: dg.OutputContext | dg.InputContext, asset_name: str) -> tuple[str, list[str] | None]:
    metadata = context.definition_metadata or {}
    schema = metadata.get("dc/schema", "dc_core")
    tables = metadata.get("dc/tables")
    return schema, (list(tables) if tables else None)


class PartitionedTableIOManager(dg.ConfigurableIOManager):
    db: dg.ResourceDependency[PostgresResource]

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        asset_name = context.asset_key.path[-1]
        schema, _ = _tables(context, asset_name)
        frames: Mapping[str, pd.DataFrame] = obj if isinstance(obj, dict) else {asset_name: obj}
        where = partition_filter(context)
        versions: dict[str, str] = {}
        counts: dict[str, int] = {}
        with self.db.connection() as conn:
            for table, frame in frames.items():
                version = frame_data_version(frame)
                versions[table] = version
                counts[table] = postgres.replace_rows(
                    conn, f"{schema}.{table}", frame, where, {"run_id": context.run_id, "data_version": version}
                )
        context.add_output_metadata(
            {
                **{f"rows/{t}": dg.MetadataValue.int(n) for t, n in counts.items()},
                **{f"table/{t}": dg.MetadataValue.text(f"{schema}.{t}") for t in frames},
                "data_version": dg.MetadataValue.text(
                    versions[next(iter(versions))]
                    if len(versions) == 1
                    else hashlib.sha256("".join(sorted(versions.values())).encode()).hexdigest()
                ),
            }
        )

    def load_input(self, context: dg.InputContext) -> Any:
        upstream = context.upstream_output
        asset_name = context.asset_key.path[-1]
        schema, tables = _tables(upstream, asset_name)
        where = partition_filter(context)
        names = tables or [asset_name]
        frames = {}
        with self.db.connection() as conn:
            for table in names:
                frames[table] = read_table(conn, f"{schema}.{table}", where)
        return frames if tables else frames[asset_name]


def read_table(conn, qualified: str, where: Mapping[str, list] | None) -> pd.DataFrame:
    from psycopg import sql

    if not postgres.table_exists(conn, qualified):
        return pd.DataFrame()
    schema, name = qualified.split(".")
    conditions = [
        sql.SQL("{} = ANY({})").format(sql.Identifier(c), sql.Literal(list(v))) for c, v in (where or {}).items()
    ]
    query = sql.SQL("SELECT * FROM {}.{}{}").format(
        sql.Identifier(schema),
        sql.Identifier(name),
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""),
    )
    frame = postgres.read_frame(conn, query)
    return frame.drop(columns=[c for c in RUN_COLUMNS if c in frame.columns])
