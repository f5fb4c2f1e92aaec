"""The report steps of one run read each input once (defs/reports/envelopes.py): a second report of the same run
gets what the first read, a new run reads again (nothing of one run reaches the next), and without a run nothing
is shared. That no report can change another's input is test_shared_views.py's (the copies each report gets)."""

from dc_pipeline.defs.reports.envelopes import _read_once, _run_memo


def test_one_run_reads_an_input_once_and_a_new_run_reads_again():
    reads = []

    def read():
        reads.append(1)
        return {"dc": [50.0, 60.0]}

    run_a = _run_memo("run-a")
    first = _read_once(run_a, ("scores", 1), read)
    assert _read_once(_run_memo("run-a"), ("scores", 1), read) is first
    assert len(reads) == 1
    _read_once(run_a, ("scores", 2), read)  # another project
    run_b = _run_memo("run-b")
    assert ("scores", 1) not in run_b  # the previous run's reads are gone
    _read_once(run_b, ("scores", 1), read)  # a new run reads again
    _read_once(_run_memo(None), ("scores", 1), read)  # no run: never shared
    _read_once(_run_memo(None), ("scores", 1), read)
    assert len(reads) == 5
