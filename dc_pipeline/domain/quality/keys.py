"""Run-level grouping helpers: every row carries `p` (its project's position in the run), so a
per-project question becomes one pass over (p, key) pairs instead of a loop over projects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# A lookup table up to this many slots answers pair lookups by one gather.
DENSE_LIMIT = 1 << 25


def narrow(codes: np.ndarray) -> np.ndarray:
    """Codes as int32 (half the memory traffic of int64, and arrays of a few million rows stay
    below the size malloc maps afresh and unmaps each time), int64 only when they need it."""
    codes = np.asarray(codes)
    if codes.size and (codes.max(initial=0) >= 2**31 or codes.min(initial=0) < -(2**31)):
        return codes.astype("int64", copy=False)
    return codes.astype("int32", copy=False)


def grouped_bounds(p: np.ndarray, n: int) -> np.ndarray | None:
    """Where each project position's rows start (n + 1 bounds) when the rows come project by project, as they
    usually do (one cheap pass to check); None otherwise."""
    p = np.asarray(p)
    if p.size > 1 and not bool((p[1:] >= p[:-1]).all()):
        return None
    return np.searchsorted(p, np.arange(n + 1, dtype=p.dtype))


def counts_by_p(p: np.ndarray, n: int) -> np.ndarray:
    """Rows per project position (p < n): from the bounds where the rows come project by project, else by
    np.bincount."""
    bounds = grouped_bounds(p, n)
    return np.diff(bounds) if bounds is not None else np.bincount(np.asarray(p), minlength=n)


def offset_codes(values: np.ndarray, limit: int) -> tuple[np.ndarray, int] | None:
    """(int32 code = value - smallest value, smallest value) for an integer column whose values span
    at most `limit`: codes without hashing. None for other columns."""
    values = np.asarray(values)
    if values.dtype.kind not in "iu" or values.size == 0:
        return None
    low, high = int(values.min()), int(values.max())
    if high - low >= min(limit, DENSE_LIMIT):
        return None
    return (values - low).astype("int32"), low


def codes_of(values, sort: bool = False) -> tuple[np.ndarray, int]:
    """Dense int64 codes of `values` (NaN / NaT is a value of its own) and how many there are.
    With sort=True the codes follow the order of the values."""
    codes, uniques = pd.factorize(np.asarray(values), sort=sort, use_na_sentinel=False)
    return narrow(codes), len(uniques)


def combine(*parts: tuple[np.ndarray, int]) -> np.ndarray:
    """One int64 key from several (codes, cardinality) pairs, the first most significant."""
    key = np.array(parts[0][0], dtype="int64")  # one fresh array, then updated in place
    for codes, size in parts[1:]:
        key *= max(size, 1)
        key += codes
    return key


def text_codes(column: pd.Series) -> tuple[np.ndarray, list]:
    """(int32 code per row, distinct values in order of appearance, None for null) of a text column.
    Arrow-backed text is dictionary-encoded in Arrow: int32 codes without a Python string per row."""
    array = column.array
    if isinstance(array, pd.arrays.ArrowExtensionArray | pd.arrays.ArrowStringArray):
        arrow = pa.array(array)
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        encoded = pc.dictionary_encode(arrow, null_encoding="encode")
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype("int32", copy=False)
        return codes, encoded.dictionary.to_pylist()
    codes, uniques = factorized(column)
    return codes.astype("int32", copy=False), [None if pd.isna(v) else v for v in uniques]


def group_codes(parts: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Dense codes of the value combinations of several (codes, cardinality) columns, renumbered
    after each column so the combined key never outgrows int64."""
    key, size = parts[0]
    for codes, n in parts[1:]:
        key, size = codes_of(combine((key, size), (codes, n)))
    return np.asarray(key)


def factorized(values) -> tuple[np.ndarray, np.ndarray]:
    """(code per item, distinct values in order of appearance); NaN is a value of its own."""
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=False)
    return narrow(codes), np.asarray(uniques)


class Groups:
    """Groups of equal int64 keys: a code per item, and each group's key."""

    def __init__(self, key: np.ndarray):
        codes, uniques = pd.factorize(key)
        self.codes = narrow(codes)
        self.keys = np.asarray(uniques, dtype="int64")

    def __len__(self) -> int:
        return self.keys.size


class Cells:
    """Groups of (a, b) code pairs, a < n_a and b < n_b: one counter per possible pair when they are
    few (no hashing), else one per pair present. `codes` per item; `a` and `b` per cell."""

    def __init__(self, a: np.ndarray, b: np.ndarray, n_a: int, n_b: int):
        width = max(n_b, 1)
        if n_a * n_b <= DENSE_LIMIT:  # the cell number fits int32: compute it in int32
            self.codes = np.asarray(a, dtype="int32") * np.int32(width) + np.asarray(b, dtype="int32")
            cells = np.arange(n_a * n_b)
        else:
            key = np.asarray(a, dtype="int64") * width + b
            groups = Groups(key)
            self.codes, cells = groups.codes, groups.keys
        self.a, self.b = cells // width, cells % width

    def __len__(self) -> int:
        return self.a.size


class PairIndex:
    """Sorted unique (p, key) pairs (float keys) answering 'where is this pair?' for many rows."""

    def __init__(self, p: np.ndarray, key: np.ndarray, n_projects: int | None = None):
        """`n_projects`: how many projects a query's p may name (default: those of the pairs)."""
        frame = pd.DataFrame({"p": np.asarray(p, dtype="int64"), "key": np.asarray(key, dtype="float64")})
        frame = frame.drop_duplicates().sort_values(["p", "key"], kind="stable")
        self.p = frame["p"].to_numpy()
        self.key = frame["key"].to_numpy()
        self._values = pd.Index(np.unique(self.key))
        self._width = len(self._values) + 1  # key code -1 (absent) maps to slot 0
        self._combined = self.p * self._width + self._values.get_indexer(self.key) + 1
        if n_projects is None:
            n_projects = int(self.p.max()) + 1 if self.p.size else 0
        self._n_projects = n_projects
        self._dense = None
        if n_projects * self._width <= DENSE_LIMIT:  # slots fit int32
            self._dense = np.full(max(n_projects * self._width, 1), -1, dtype="int32")
            self._dense[self._combined] = np.arange(self.p.size)

    def __len__(self) -> int:
        return self.p.size

    def find(self, p: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Position of each (p, key) among the sorted pairs, -1 where absent."""
        return self._find(p, self._values.get_indexer(np.asarray(key, dtype="float64")) + 1)

    def find_coded(self, p: np.ndarray, codes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """`find` for keys given as codes into their distinct `values`: one lookup per distinct value."""
        key_code = (self._values.get_indexer(np.asarray(values, dtype="float64")) + 1).astype("int32")
        return self._find(p, key_code[codes])

    def _find(self, p: np.ndarray, key_code: np.ndarray) -> np.ndarray:
        if self._dense is not None:
            p = np.asarray(p)
            inside = p < self._n_projects
            if inside.all():
                return self._dense[p.astype("int32", copy=False) * np.int32(self._width) + key_code]
            slot = np.where(inside, p, 0).astype("int64") * self._width + key_code
            return np.where(inside, self._dense[slot], -1)
        combined = np.asarray(p, dtype="int64") * self._width + key_code
        at = np.minimum(np.searchsorted(self._combined, combined), max(self._combined.size - 1, 0))
        found = (key_code > 0) & (self._combined.size > 0)
        if self._combined.size:
            found &= self._combined[at] == combined
        return np.where(found, at, -1)


def group_extreme(groups: np.ndarray, stamps: np.ndarray, n_groups: int, latest: bool) -> np.ndarray:
    """Latest (or earliest) datetime64[ns] per group, NaT for a group without one."""
    ns = np.asarray(stamps, dtype="datetime64[ns]").view("int64")
    nat = np.iinfo("int64").min  # NaT's int64 value
    if latest:
        out = np.full(n_groups, nat, dtype="int64")  # NaT is the smallest int64: a max skips it
        np.maximum.at(out, groups, ns)
    else:
        out = np.full(n_groups, np.iinfo("int64").max, dtype="int64")
        np.minimum.at(out, groups, np.where(ns == nat, np.iinfo("int64").max, ns))
        out[out == np.iinfo("int64").max] = nat
    return out.view("datetime64[ns]")
