"""Metadata of project × brand assets, written per partition: a run over a range of pairs gives each pair its own
numbers, and a pair that is not a membership says so instead of showing its neighbours' results."""

from collections.abc import Callable

import dagster as dg

from dc_pipeline.defs.partitions import pair_of
from dc_pipeline.domain.reference import Reference


def add_pair_metadata(
    context: dg.AssetExecutionContext, reference: Reference, describe: Callable[[int, int], dict]
) -> None:
    """`describe(project_id, brand_id)` gives the metadata of one tracked pair."""
    for key in context.partition_keys:
        project_id, brand_id = pair_of(key)
        if reference.is_member(project_id, brand_id):
            metadata = describe(project_id, brand_id)
        else:
            metadata = {"not_tracked": f"not tracked: brand b{brand_id} is not a member of project p{project_id}"}
        context.add_asset_metadata(metadata, partition_key=key)
