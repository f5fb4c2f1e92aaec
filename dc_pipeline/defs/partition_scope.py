"""Which rows a run's partitions cover: project keys -> project_id, pair keys -> (project, brand)."""

from __future__ import annotations

import dagster as dg

from dc_pipeline.domain.partition_keys import brand_id_of, project_id_of


def keys_to_filter(keys: list[str]) -> dict[str, list[int]]:
    """Row filter for a list of partition keys (project `p1` or multi `b3|p1`)."""
    if not keys:
        return {}
    if "|" in keys[0]:
        pairs = [_pair(k) for k in keys]
        return {"project_id": sorted({p for p, _ in pairs}), "brand_id": sorted({b for _, b in pairs})}
    return {"project_id": sorted(project_id_of(k) for k in keys)}


def _pair(key: str | dg.MultiPartitionKey) -> tuple[int, int]:
    dims = (
        key.keys_by_dimension
        if isinstance(key, dg.MultiPartitionKey)
        else dict(zip(("brand", "project"), str(key).split("|")))
    )
    return project_id_of(dims["project"]), brand_id_of(dims["brand"])


def partition_filter(context: dg.OutputContext | dg.InputContext) -> dict[str, list[int]]:
    if isinstance(context, dg.InputContext):
        if not context.has_asset_partitions:
            return {}
        return keys_to_filter(list(context.asset_partition_keys))
    if not context.has_asset_partitions:
        return {}
    return keys_to_filter(list(context.asset_partition_keys))
