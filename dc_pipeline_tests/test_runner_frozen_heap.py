"""Stage workers are forked with the parent's heap frozen (runner.frozen_heap): in a worker the inherited objects
are outside the collector's generations, and the parent's own objects are collectable again once it has forked."""

from __future__ import annotations

import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from dc_pipeline import runner


def _worker_gc_state() -> tuple[int, int]:
    """(objects frozen, objects the collector tracks) in the worker."""
    return gc.get_freeze_count(), len(gc.get_objects())


def test_forked_workers_inherit_a_frozen_heap_and_the_parent_thaws():
    inherited = [{"row": i} for i in range(20_000)]  # objects the workers inherit (dicts are gc-tracked)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(2, mp_context=context) as pool:  # as runner.run_stage_in_process forks its workers
        with runner.frozen_heap():
            futures = [pool.submit(_worker_gc_state) for _ in range(2)]  # the first submit forks both workers
        assert gc.get_freeze_count() == 0
        parent_tracked = len(gc.get_objects())
        results = [future.result() for future in futures]
    for frozen, tracked in results:
        assert frozen >= len(inherited)
        assert tracked < parent_tracked - len(inherited)


def test_without_it_workers_collect_the_inherited_heap():
    """The baseline the test above differs from: a plain fork leaves every inherited object in the generations."""
    inherited = [{"row": i} for i in range(20_000)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        frozen, tracked = pool.submit(_worker_gc_state).result()
    assert frozen == 0
    assert tracked >= len(inherited)
