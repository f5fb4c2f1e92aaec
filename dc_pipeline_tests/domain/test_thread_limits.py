"""single_threaded: the pools are limited inside and restored after, and a new import rebuilds the controller."""

import sys
import types

import numpy as np  # noqa: F401 (loads OpenBLAS)
import scipy.linalg  # noqa: F401
from threadpoolctl import threadpool_info

from dc_pipeline.domain import thread_limits
from dc_pipeline.domain.thread_limits import single_threaded, thread_pools


def _threads(user_api: str) -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == user_api]


def test_blas_limited_inside_and_restored_after():
    before = _threads("blas")
    assert before, "OpenBLAS is loaded by numpy/scipy"
    with single_threaded("blas"):
        assert _threads("blas") == [1] * len(before)
    assert _threads("blas") == before


def test_controller_kept_until_a_module_is_imported(monkeypatch):
    first = thread_pools()
    assert thread_pools() is first  # no rescan of the libraries while nothing new is loaded
    monkeypatch.setitem(sys.modules, "dc_pipeline_tests_fake_module", types.ModuleType("fake"))
    rebuilt = thread_pools()
    assert rebuilt is not first
    assert thread_limits._controller[0] == len(sys.modules)
