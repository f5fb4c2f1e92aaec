"""Partition key spelling (SPEC §0): projects `p<id>`, brands `b<id>`; and cutting keys into ranges of consecutive
partitions, the unit a run over several partitions covers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

_PROJECT = re.compile(r"^p(\d+)$")
_BRAND = re.compile(r"^b(\d+)$")


def project_key(project_id: int) -> str:
    return f"p{int(project_id)}"


def brand_key(brand_id: int) -> str:
    return f"b{int(brand_id)}"


def project_id_of(key: str) -> int:
    match = _PROJECT.match(key)
    if not match:
        raise ValueError(f"not a project partition key: {key!r} (expected p<project_id>, e.g. p101)")
    return int(match.group(1))


def brand_id_of(key: str) -> int:
    match = _BRAND.match(key)
    if not match:
        raise ValueError(f"not a brand partition key: {key!r} (expected b<brand_id>, e.g. b3)")
    return int(match.group(1))


def consecutive_slices(
    keys: list[str], order: list[str], pieces: int = 1, weights: Mapping[str, float] | None = None
) -> list[list[str]]:
    """`keys` as runs of consecutive keys in partition `order` (a key of `order` missing from `keys` ends a run, so
    no range covers it), cut further into at most `pieces` slices: without `weights`, the longest halved until there
    are `pieces` or every slice is one key; with `weights` (a key's expected work), so that the heaviest slice is as
    light as `pieces` slices allow, in as few slices as that takes (one run's fixed cost less), or one key a slice
    when `pieces` allows it."""
    position = {key: i for i, key in enumerate(order)}
    runs: list[list[str]] = []
    for key in sorted((k for k in set(keys) if k in position), key=position.__getitem__):
        if runs and position[runs[-1][-1]] == position[key] - 1:
            runs[-1].append(key)
        else:
            runs.append([key])
    if weights is not None:
        return _lightest_cut(runs, weights, pieces)
    while len(runs) < pieces and any(len(r) > 1 for r in runs):
        longest = max(runs, key=len)
        i = runs.index(longest)
        runs[i : i + 1] = [longest[: len(longest) // 2], longest[len(longest) // 2 :]]
    return runs


def _lightest_cut(runs: list[list[str]], weights: Mapping[str, float], pieces: int) -> list[list[str]]:
    """The runs cut greedily at the smallest capacity (a sum of consecutive weights) that needs no more than
    `pieces` slices; the runs themselves when even one key per slice would need more."""

    def cut(capacity: float) -> list[list[str]]:
        slices: list[list[str]] = []
        for run in runs:
            current: list[str] = []
            total = 0.0
            for key in run:
                if current and total + weights[key] > capacity:
                    slices.append(current)
                    current, total = [], 0.0
                current.append(key)
                total += weights[key]
            slices.append(current)
        return slices

    if pieces >= sum(len(run) for run in runs):
        return [[key] for run in runs for key in run]
    heaviest_key = max(weights[k] for run in runs for k in run)
    sums = sorted(
        total
        for run in runs
        for i in range(len(run))
        for total in itertools.accumulate(weights[k] for k in run[i:])
        if total >= heaviest_key
    )
    # The greedy cut needs fewer slices as the capacity grows: the lightest capacity that fits, by bisection.
    low, high = 0, len(sums) - 1
    while low < high:
        middle = (low + high) // 2
        if len(cut(sums[middle])) <= max(pieces, len(runs)):
            high = middle
        else:
            low = middle + 1
    return cut(sums[low])
