"""Codes of text columns (keys.text_codes): the same grouping whichever way the column is stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.quality.keys import counts_by_p, text_codes

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
