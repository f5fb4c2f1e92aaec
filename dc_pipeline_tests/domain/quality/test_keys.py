"""Codes of text columns (keys.text_codes): the same grouping whichever way the column is stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.quality.keys import codes_of, counts_by_p, group_codes, text_codes

LABELS = ["Marketplace", None, " Socialwatch", "Marketplace", "", None, "socialwatch"]


def _decoded(column: pd.Series) -> list:
    codes, values = text_codes(column)
    assert codes.dtype == np.int32 and len(codes) == len(column)
    return [values[c] for c in codes]


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_text_codes_give_back_every_label_with_null_as_none(dtype):
    assert _decoded(pd.Series(LABELS, dtype=dtype)) == LABELS


def test_text_codes_of_a_chunked_arrow_column():
    # concat keeps the Arrow chunks apart: the codes still number the labels of all chunks as one
    column = pd.concat([pd.Series(LABELS[:3], dtype="str"), pd.Series(LABELS[3:], dtype="str")], ignore_index=True)
    assert _decoded(column) == LABELS
    codes, values = text_codes(column)
    assert len(values) == len(set(LABELS))  # one code per distinct label, across chunks
    assert codes[0] == codes[3]


def test_text_codes_of_an_empty_column():
    codes, values = text_codes(pd.Series([], dtype="str"))
    assert codes.size == 0 and values == []


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_counts_by_p_agree_with_bincount_in_and_out_of_order(dtype):
    rng = np.random.default_rng(5)
    p = np.sort(rng.integers(0, 6, 500)).astype(dtype)  # projects 6 and 7 have no rows
    for rows in (p, rng.permutation(p), p[:1], p[:0]):
        assert counts_by_p(rows, 8).tolist() == np.bincount(rows, minlength=8).tolist()


def test_group_codes_number_the_value_combinations_like_a_groupby():
    rng = np.random.default_rng(9)
    columns = [rng.choice(np.array(["a", "b", None], dtype=object), 300) for _ in range(3)]
    columns.append(rng.integers(0, 10**6, 300))  # wide codes: the key is renumbered, never overflows
    frame = pd.DataFrame({i: c for i, c in enumerate(columns)})
    expected = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()
    got = group_codes([codes_of(c) for c in columns])
    # the same partition of the rows: equal codes exactly where the groupby's codes are equal
    assert pd.crosstab(got, expected).astype(bool).sum(axis=1).eq(1).all()
    assert len(np.unique(got)) == len(np.unique(expected))
