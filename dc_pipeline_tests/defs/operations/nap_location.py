"""A code location whose one job sleeps, partitioned like the project's assets: long enough to kill its run
worker, or to see a second run of the same partition wait in the queue."""

import time

import dagster as dg


@dg.op
def nap() -> None:
    time.sleep(300)


@dg.job(partitions_def=dg.StaticPartitionsDefinition(["p1", "p2"]))
def nap_job():
    nap()


@dg.op
def touch(context) -> None:
    import os

    context.log.info(f"worker pid {os.getpid()}")


@dg.job
def quick_job():
    touch()


defs = dg.Definitions(jobs=[nap_job, quick_job])
