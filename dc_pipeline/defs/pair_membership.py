"""Project × brand partitions: which pairs of a run are tracked (SPEC §0).

A pair whose brand is not a member of the project succeeds at once with no rows and the
metadata `not tracked: brand b7 is not a member of project p102`, so a whole-dimension backfill
never fails on absent pairs.
"""

import dagster as dg
import pandas as pd

from dc_pipeline.domain.partition_keys import brand_id_of, project_id_of


def run_pairs(context: dg.AssetExecutionContext) -> list[tuple[int, int]]:
    """(project_id, brand_id) of every partition in the run."""
    pairs = []
    for key in context.partition_keys:
        dims = (
            key.keys_by_dimension
            if isinstance(key, dg.MultiPartitionKey)
            else dict(zip(("brand", "project"), str(key).split("|")))
        )
        pairs.append((project_id_of(dims["project"]), brand_id_of(dims["brand"])))
    return pairs


def split_tracked(
    pairs: list[tuple[int, int]], project_brands: pd.DataFrame
) -> tuple[list[tuple[int, int]], list[str]]:
    """Tracked pairs, and a `not tracked: ...` message for each pair that is not a membership."""
    members = set(zip(project_brands["project_id"].astype(int), project_brands["brand_id"].astype(int)))
    tracked = [p for p in pairs if p in members]
    untracked = [f"not tracked: brand b{b} is not a member of project p{p}" for p, b in pairs if (p, b) not in members]
    return tracked, untracked


def not_tracked_metadata(untracked: list[str]) -> dict:
    if not untracked:
        return {}
    return {
        "not_tracked": dg.MetadataValue.md("\n".join(f"- {m}" for m in untracked)),
        "not_tracked_pairs": len(untracked),
    }
