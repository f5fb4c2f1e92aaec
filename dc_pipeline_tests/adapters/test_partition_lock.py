"""Partition locks on a real Postgres: one holder per partition, all-or-none over ranges, the holder named in
the wait, and a killed holder's locks released by the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from dc_pipeline.adapters.partition_lock import PartitionBusyError, PartitionLock


def test_a_second_run_waits_and_is_told_who_holds_the_partition(fresh_db):
    first, second = PartitionLock(fresh_db, "run-a"), PartitionLock(fresh_db, "run-b")
    try:
        first.acquire(["p1", "p2"], wait_s=5)
        told = []
        started = time.monotonic()
        with pytest.raises(PartitionBusyError) as busy:
            second.acquire(["p2", "p3"], wait_s=2, on_wait=told.append)
        assert time.monotonic() - started >= 2
        assert "p2" in str(busy.value) and "run run-a" in str(busy.value) and "p3" not in str(busy.value)
        assert told and "p2" in told[0] and "run run-a" in told[0]
        # All or none: the free partition p3 was given back, so a third run takes it at once.
        third = PartitionLock(fresh_db, "run-c")
        third.acquire(["p3"], wait_s=0)
        third.release()
        first.release()
        second.acquire(["p2", "p3"], wait_s=0)
        assert second.held == {"p2", "p3"}
    finally:
        first.release()
        second.release()


def test_a_holder_keeps_its_partitions_across_its_writes(fresh_db):
    lock = PartitionLock(fresh_db, "run-a")
    try:
        lock.acquire(["p1"], wait_s=0)
        lock.acquire(["p1"], wait_s=0)  # a later write of the same run: already held, no wait
        lock.acquire(["p1", "p4"], wait_s=0)
        assert lock.held == {"p1", "p4"}
    finally:
        lock.release()


HOLD = """
import sys, time
from dc_pipeline.adapters.partition_lock import PartitionLock
lock = PartitionLock(sys.argv[1], "killed-run")
lock.acquire(["p7"], wait_s=5)
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holder_never_blocks_the_next_run(fresh_db):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, fresh_db], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        blocked = PartitionLock(fresh_db, "next-run")
        with pytest.raises(PartitionBusyError, match="run killed-run"):
            blocked.acquire(["p7"], wait_s=1)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        blocked.acquire(["p7"], wait_s=10)  # the server dropped the dead session and its locks
        assert blocked.held == {"p7"}
        blocked.release()
    finally:
        if holder.poll() is None:
            holder.kill()
