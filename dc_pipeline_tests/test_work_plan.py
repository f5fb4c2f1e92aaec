"""The demo's work plan: batches are ranges of consecutive partitions, a project's pairs stay in one run."""

import itertools
import random

import dagster as dg
import pytest

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


# normalisedvalue rows per project of the small demo
DEMO_ROWS = {"p1": 12, "p2": 12, "p3": 12, "p101": 4811, "p102": 1604, "p103": 802, "p104": 4728}


def test_weighted_slices_even_out_work_and_come_heaviest_first():
    # ingest: a fixed part per project, so the three small projects weigh as much as one large one
    stage = project_stage("scores", "ingest_job", ORDER, ORDER, 2, DEMO_ROWS)
    assert [b.keys for b in stage.batches] == [("p1", "p2", "p3", "p101"), ("p102", "p103", "p104")]
    assert slices(ORDER, ORDER, 4, DEMO_ROWS) == [["p101"], ["p104"], ["p102", "p103"], ["p1", "p2", "p3"]]
    # the model stages grow with the rows: one project a run, heaviest first
    assert slices(ORDER, ORDER, 7, DEMO_ROWS) == [[k] for k in ("p101", "p104", "p102", "p103", "p1", "p2", "p3")]
    assert slices(["p1"], ORDER, 2, DEMO_ROWS) == [["p1"]]
    assert slices([], ORDER, 2, DEMO_ROWS) == []


def test_weighted_slices_are_the_lightest_cut_of_consecutive_keys():
    rng = random.Random(7)
    for _ in range(200):
        n, pieces = rng.randint(1, 8), rng.randint(1, 4)
        keys = [f"p{i}" for i in range(n)]
        weights = {k: rng.choice([0, 1, 5, rng.random() * 100]) for k in keys}
        cut = slices(keys, keys, pieces, weights)
        assert sorted(k for s in cut for k in s) == sorted(keys) and len(cut) <= pieces
        assert all(keys.index(s[-1]) - keys.index(s[0]) == len(s) - 1 for s in cut)  # consecutive
        best = min(
            max(sum(weights[k] for k in keys[a:b]) for a, b in zip((0, *ends), (*ends, n)))
            for r in range(min(pieces, n))
            for ends in itertools.combinations(range(1, n), r)
        )
        assert max(sum(weights[k] for k in s) for s in cut) == pytest.approx(best)
