"""An input naming `dc/columns` reads only those columns of the upstream table (dc_scores reads 5 of
validated_values' 9), from the partitions it asks for; without it, every column but the run columns."""

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import postgres
from dc_pipeline.defs.io_manager import INPUT_COLUMNS, PartitionedTableIOManager
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.defs.scoring.assets import dc_scores
from dc_pipeline.domain.scoring import SCORED_VALUE_COLUMNS


def _load(url: str, metadata: dict | None) -> pd.DataFrame:
    manager = PartitionedTableIOManager(db=PostgresResource(url=url))
    upstream = dg.build_output_context(
        asset_key=dg.AssetKey("wide_values"), definition_metadata={"dc/schema": "dc_core"}
    )
    context = dg.build_input_context(
        upstream_output=upstream,
        asset_key=dg.AssetKey("wide_values"),
        definition_metadata=metadata,
        partition_key="p2",
        asset_partitions_def=dg.StaticPartitionsDefinition(["p1", "p2"]),  # keys as the projects'
        instance=dg.DagsterInstance.ephemeral(),
    )
    return manager.load_input(context)


def test_an_input_reads_only_the_columns_it_names(fresh_db):
    frame = pd.DataFrame(
        {"project_id": [1, 2, 2], "brand_id": [7, 8, 9], "source": ["a", "b", "c"], "value": [0.5, 1.5, 2.5]}
    )
    with postgres.connect(fresh_db) as conn:
        postgres.replace_rows(conn, "dc_core.wide_values", frame, {"project_id": [1, 2]}, {"run_id": "r1"})
        conn.commit()
    narrow = _load(fresh_db, {INPUT_COLUMNS: ["brand_id", "value", "absent"]})
    assert list(narrow.columns) == ["brand_id", "value"]
    assert sorted(narrow["brand_id"]) == [8, 9] and sorted(narrow["value"]) == [1.5, 2.5]
    assert list(_load(fresh_db, None).columns) == ["project_id", "brand_id", "source", "value"]


def test_dc_scores_asks_for_the_columns_scoring_reads():
    metadata = dc_scores.node_def.input_def_named("validated_values").metadata
    assert metadata[INPUT_COLUMNS] == list(SCORED_VALUE_COLUMNS)
