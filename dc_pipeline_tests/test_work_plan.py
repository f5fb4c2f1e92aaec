"""The demo's work plan: batches are ranges of consecutive partitions, a project's pairs stay in one run."""

import dagster as dg

from dc_pipeline.work_plan import pair_stage, project_stage, slices

ORDER = ["p1", "p2", "p3", "p101", "p102", "p103", "p104"]


def test_slices_are_consecutive_and_a_missing_project_cuts_them():
    assert slices(ORDER, ORDER, 2) == [["p1", "p2", "p3"], ["p101", "p102", "p103", "p104"]]
    assert slices(ORDER, ORDER, 4) == [["p1"], ["p2", "p3"], ["p101", "p102"], ["p103", "p104"]]
    # p102 failed to score: no range may cover it
    cut = slices([k for k in ORDER if k != "p102"], ORDER, 1)
    assert cut == [["p1", "p2", "p3", "p101"], ["p103", "p104"]]
    assert sorted(k for s in slices(ORDER, ORDER, 3) for k in s) == sorted(ORDER)
    assert slices(["p104", "p1", "p2"], ORDER, 1) == [["p1", "p2"], ["p104"]]  # any input order


def test_project_stage_batches_carry_range_tags_and_every_key():
    stage = project_stage("scores", "ingest_job", ORDER, ORDER, 2)
    assert [b.tags for b in stage.batches] == [
        {"dagster/asset_partition_range_start": "p1", "dagster/asset_partition_range_end": "p3"},
        {"dagster/asset_partition_range_start": "p101", "dagster/asset_partition_range_end": "p104"},
    ]
    assert [k for b in stage.batches for k in b.keys] == ORDER


def test_pair_stage_covers_every_pair_of_a_project_in_one_run():
    brands = ["b1", "b2", "b11"]
    stage = pair_stage(ORDER, ORDER, brands, 2)
    covered = [k for b in stage.batches for k in b.keys]
    assert len(covered) == len(set(covered)) == len(ORDER) * len(brands)
    first = stage.batches[0]
    assert first.tags["dagster/asset_partition_range_start"] == str(
        dg.MultiPartitionKey({"project": "p1", "brand": "b1"})
    )
    assert first.tags["dagster/asset_partition_range_end"] == str(
        dg.MultiPartitionKey({"project": "p3", "brand": "b11"})
    )
    for batch in stage.batches:
        projects = {k.split("|")[1] for k in batch.keys}
        assert all(f"{b}|{p}" in batch.keys for p in projects for b in brands)
