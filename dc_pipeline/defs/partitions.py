"""Partitions (SPEC §0): dynamic projects and brands, their product for brand-level assets, and which rows and
pairs a run's partitions cover.

A pair whose brand is not a member of the project succeeds at once with no rows and the metadata
`not tracked: brand b7 is not a member of project p102`, so a whole-dimension backfill never fails on absent
pairs.
"""

from __future__ import annotations

import dagster as dg

from dc_pipeline.domain.partition_keys import brand_id_of, brand_key, project_id_of, project_key
from dc_pipeline.domain.reference import Reference

projects_partitions = dg.DynamicPartitionsDefinition(name="projects")
brands_partitions = dg.DynamicPartitionsDefinition(name="brands")
project_brand_partitions = dg.MultiPartitionsDefinition({"project": projects_partitions, "brand": brands_partitions})

# Brand-level assets read project-level ones through the project dimension.
project_of_pair = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="project")

# A backfill processes several projects per run: a Dagster run costs seconds of start-up.
project_backfill_policy = dg.BackfillPolicy.multi_run(max_partitions_per_run=50)
pair_backfill_policy = dg.BackfillPolicy.multi_run(max_partitions_per_run=100)


def pair_of(key: str | dg.MultiPartitionKey) -> tuple[int, int]:
    """(project_id, brand_id) of a pair key (`b3|p1` or a MultiPartitionKey)."""
    dims = (
        key.keys_by_dimension
        if isinstance(key, dg.MultiPartitionKey)
        else dict(zip(("brand", "project"), str(key).split("|")))
    )
    return project_id_of(dims["project"]), brand_id_of(dims["brand"])


def pair_key(project_id: int, brand_id: int) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"project": project_key(project_id), "brand": brand_key(brand_id)})


def keys_to_filter(keys: list[str]) -> dict[str, list[int]]:
    """Row filter for a list of partition keys (project `p1` or pair `b3|p1`)."""
    if not keys:
        return {}
    if "|" in str(keys[0]):
        pairs = [pair_of(k) for k in keys]
        return {"project_id": sorted({p for p, _ in pairs}), "brand_id": sorted({b for _, b in pairs})}
    return {"project_id": sorted(project_id_of(k) for k in keys)}


def partition_filter(context: dg.OutputContext | dg.InputContext) -> dict[str, list[int]]:
    if not context.has_asset_partitions:
        return {}
    return keys_to_filter(list(context.asset_partition_keys))


def run_project_ids(context: dg.AssetExecutionContext) -> list[int]:
    return [project_id_of(k) for k in context.partition_keys]


def run_pairs(context: dg.AssetExecutionContext) -> list[tuple[int, int]]:
    """(project_id, brand_id) of every partition in the run."""
    return [pair_of(key) for key in context.partition_keys]


def split_tracked(pairs: list[tuple[int, int]], reference: Reference) -> tuple[list[tuple[int, int]], list[str]]:
    """Tracked pairs, and a `not tracked: ...` message for each pair that is not a membership."""
    tracked = [p for p in pairs if reference.is_member(*p)]
    untracked = [f"not tracked: brand b{b} is not a member of project p{p}" for p, b in pairs
                 if not reference.is_member(p, b)]  # fmt: skip
    return tracked, untracked
