"""The report steps of one run read each input once (defs/reports/envelopes.py): a second report of the same run
gets a copy of what the first read, a new run reads again, and no report can change another's input."""

import pandas as pd

from dc_pipeline.defs.reports.envelopes import _read_once


def test_one_run_reads_an_input_once_and_hands_out_independent_copies():
    reads = []

    def read():
        reads.append(1)
        return {"scores": pd.DataFrame({"brand_id": [1, 2], "dc": [50.0, 60.0]})}

    first = _read_once("run-a", ("scores", 1), read)
    first["scores"].loc[0, "dc"] = -1.0  # a builder changing its input frame
    second = _read_once("run-a", ("scores", 1), read)
    assert len(reads) == 1
    assert second["scores"]["dc"].tolist() == [50.0, 60.0]
    _read_once("run-a", ("scores", 2), read)  # another project
    _read_once("run-b", ("scores", 1), read)  # a new run reads again
    _read_once(None, ("scores", 1), read)  # no run: never shared
    _read_once(None, ("scores", 1), read)
    assert len(reads) == 5
