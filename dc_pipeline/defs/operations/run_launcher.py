"""The instance's run launcher (dagster.yaml): Dagster's default launcher, plus a run worker health check so that
run monitoring ends a run whose worker process died.

The default launcher starts each run worker as a child of the code server. When only the worker dies, the code
server notices and fails the run; when the code server dies with it (`dagster dev` killed, the machine
restarted, the out-of-memory killer), nothing is left to notice and the run stays STARTED forever. Run
monitoring (the daemon, every `run_monitoring.poll_interval_seconds`) asks the launcher about every STARTED run;
the default launcher cannot answer. This one reads the pid from the run's "Started process for run (pid: N)"
engine event and checks that the process still runs on this machine.
"""

from __future__ import annotations

import json

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

from dc_pipeline.adapters.processes import is_local_host, process_gone

_STARTED = "Started process for run (pid: "


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers run monitoring can check (same machine as the daemon)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        worker = self._worker(run)
        if worker is None:
            # In-process runs (execute_in_process) and workers on another host: not judged here; the
            # run_monitoring max_runtime_seconds still ends them.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no local run worker recorded")
        pid, recorded_at = worker
        gone = process_gone(pid, recorded_at)
        if gone is None:
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker process {pid} is running")
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run worker died: {gone}. Every table keeps the rows of its last finished write (one "
            "transaction each) and a step still running in a process of its own writes nothing for a failed run. "
            "Re-execute the run.",
        )

    def _worker(self, run: DagsterRun) -> tuple[int, float] | None:
        """(pid, recorded at) of the run's latest local worker process, if any."""
        grpc_info = json.loads(run.tags.get(GRPC_INFO_TAG) or "{}")
        if not grpc_info.get("socket") and not is_local_host(grpc_info.get("host")):
            return None
        records = self._instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ENGINE_EVENT).records
        for record in reversed(records):
            message = record.event_log_entry.message or ""
            if message.startswith(_STARTED):
                return int(message[len(_STARTED) :].split(")")[0]), record.timestamp
        return None
