"""Codes of text columns (keys.text_codes): the same grouping whichever way the column is stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.domain.quality.keys import text_codes

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
