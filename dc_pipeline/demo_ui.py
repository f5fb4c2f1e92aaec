"""`dc-pipeline demo` with the UI first: `dagster dev` (webserver, daemon, one code server) starts before any work,
then every run of the work plan is launched through the webserver's GraphQL API, so it appears in the UI as it
goes and runs the way users' runs do (queued, then launched by the daemon, two at a time).

While the plan runs, the project's sensors see DC_PLAN_MARKER (defs/plan_gate.py) and wait, so they do not
request the same runs; afterwards they start from the state the runs left (no run for unchanged data).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import dagster as dg

from dc_pipeline.runner import RunSummary

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
MODULE = "dc_pipeline.definitions"


def start_dagster_dev(port: int, home: Path, marker: Path) -> subprocess.Popen:
    """`dagster dev` on 127.0.0.1:`port` with the instance in `home` and the demo's environment (ui_launch.py), in
    a process group of its own, its output in `home`/dagster_dev.log."""
    from dc_pipeline.adapters.processes import default_interrupts
    from dc_pipeline.ui_launch import dagster_dev_process

    command, cwd, env = dagster_dev_process(MODULE, port, home, {**os.environ, "DC_PLAN_MARKER": str(marker)})
    log = (home / "dagster_dev.log").open("w")
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=default_interrupts,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_ui(port: int, process: subprocess.Popen, home: Path, timeout_s: float = 120) -> None:
    """Until the webserver answers; a `dagster dev` that exits first is reported with its log's tail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (home / "dagster_dev.log").read_text()[-2000:]
            raise RuntimeError(f"dagster dev exited with code {process.returncode}; its log ends with:\n{tail}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.3)
    raise RuntimeError(
        f"the Dagster UI did not answer on port {port} within {timeout_s:.0f} s: see {home}/dagster_dev.log"
    )


class GraphqlLauncher:
    """Launches a stage's runs through the webserver (as the UI's Launch button does) and waits for them."""

    def __init__(self, port: int, instance: dg.DagsterInstance, plan_id: str):
        from dagster_graphql import DagsterGraphQLClient

        self.client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        self.instance, self.plan_id, self.port = instance, plan_id, port

    def submit(self, job: str, run_config: dict, tags: dict, wait_s: float = 180) -> str:
        """The run id; retried while the code location is still loading."""
        from dagster_graphql import DagsterGraphQLClientError

        deadline = time.monotonic() + wait_s
        while True:
            try:
                return self.client.submit_job_execution(job, run_config=run_config, tags=tags)
            except DagsterGraphQLClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def wait(self, run_ids: list[str]) -> dict[str, dg.DagsterRun]:
        done: dict[str, dg.DagsterRun] = {}
        while len(done) < len(run_ids):
            for run_id in run_ids:
                run = self.instance.get_run_by_id(run_id)
                if run is not None and run.status in FINISHED:
                    done[run_id] = run
            time.sleep(0.5)
        return done

    def __call__(self, stage) -> RunSummary:
        from dc_pipeline.runner import QUIET
        from dc_pipeline.work_plan import PLAN_TAG

        config = {**QUIET, **stage.run_config}
        ids = [
            self.submit(stage.job, config, {**stage.tags, **batch.tags, PLAN_TAG: self.plan_id})
            for batch in stage.batches
        ]
        runs = self.wait(ids)
        summary = RunSummary()
        for run_id, batch in zip(ids, stage.batches):
            if runs[run_id].status == dg.DagsterRunStatus.SUCCESS:
                summary.succeeded.extend(batch.keys)
            else:
                reason = f"run {run_id[:8]} {runs[run_id].status.value}: http://127.0.0.1:{self.port}/runs/{run_id}"
                summary.failed.update({k: reason for k in batch.keys})
        return summary
