"""Vectorised statistics of many short series at once (one row each): pairs of brands sharing the same
observed periods are evaluated together, so a project of 20 brands (190 pairs) costs a few array operations
instead of hundreds of scipy calls."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import numpy as np


def pair_groups(wide: np.ndarray, min_rows: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(a column indices, b column indices, row mask) for every column pair a < b of `wide` (rows = periods),
    grouped by the rows where both columns are observed."""
    observed = ~np.isnan(wide)
    groups: dict[bytes, list[tuple[int, int]]] = {}
    masks: dict[bytes, np.ndarray] = {}
    for a, b in combinations(range(wide.shape[1]), 2):
        mask = observed[:, a] & observed[:, b]
        key = mask.tobytes()
        groups.setdefault(key, []).append((a, b))
        masks[key] = mask
    for key, pairs in groups.items():
        if masks[key].sum() >= min_rows:
            ia, ib = (np.array(x) for x in zip(*pairs))
            yield ia, ib, masks[key]


def autocorrelation(x: np.ndarray, lag: int) -> np.ndarray:
    """Lag-`lag` sample autocorrelation of every row of x (rows centred on their own mean)."""
    c = x - x.mean(axis=1, keepdims=True)
    denom = np.einsum("ij,ij->i", c, c)
    num = np.einsum("ij,ij->i", c[:, lag:], c[:, :-lag])
    return np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
