"""Partition key spelling (SPEC §0): projects `p<id>`, brands `b<id>`; and cutting keys into ranges of consecutive
partitions, the unit a run over several partitions covers."""

from __future__ import annotations

import re

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


def consecutive_slices(keys: list[str], order: list[str], pieces: int = 1) -> list[list[str]]:
    """`keys` as runs of consecutive keys in partition `order` (a key of `order` missing from `keys` ends a run, so
    no range covers it), the longest cut in halves until there are `pieces` slices or every slice is one key."""
    position = {key: i for i, key in enumerate(order)}
    runs: list[list[str]] = []
    for key in sorted((k for k in set(keys) if k in position), key=position.__getitem__):
        if runs and position[runs[-1][-1]] == position[key] - 1:
            runs[-1].append(key)
        else:
            runs.append([key])
    while len(runs) < pieces and any(len(r) > 1 for r in runs):
        longest = max(runs, key=len)
        i = runs.index(longest)
        runs[i : i + 1] = [longest[: len(longest) // 2], longest[len(longest) // 2 :]]
    return runs
