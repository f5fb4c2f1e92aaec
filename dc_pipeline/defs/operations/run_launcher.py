"""The instance's run launcher (dagster.yaml): run workers forked from a preloaded server, and a run worker health
check so that run monitoring ends a run whose worker process died.

Dagster's default launcher asks the code server to `spawn` each run worker, which imports dagster, pandas, SciPy
... afresh: about 2.5 CPU seconds per run before it starts. With `fork_server: true` (the default) this launcher
forks workers from run_worker_server.py instead, which imported those once; the worker still loads this project's
code from disk. `fork_server: false` keeps Dagster's path (and where `os.fork` does not exist, it is used anyway).

Run monitoring (the daemon, every `run_monitoring.poll_interval_seconds`) asks the launcher about every STARTED
run; Dagster's default launcher cannot answer, so a run whose worker died with nothing left to notice (the code
server killed with it, the machine restarted, the out-of-memory killer) stayed STARTED forever. This one reads
the pid from the run's "Started process for run (pid: N)" engine event and checks that the process still runs on
this machine.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher, Field
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.types import ExecuteRunArgs
from dagster._serdes import ConfigurableClassData
from dagster_shared.serdes import serialize_value

from dc_pipeline.adapters.processes import default_interrupts, is_local_host, process_gone

_STARTED = "Started process for run (pid: "
FORKED_TAG = "dc/run_worker_host"  # the host whose run worker server forked the run's worker


class LocalRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers are forked from a preloaded server and can be checked by run
    monitoring (same machine as the daemon)."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, fork_server: bool = True):
        super().__init__(inst_data=inst_data)
        self._fork_server = fork_server and hasattr(os, "fork")
        self._server: _RunWorkerServer | None = None
        self._server_lock = threading.Lock()

    @classmethod
    def config_type(cls):
        return {"fork_server": Field(bool, is_required=False, default_value=True)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if not self._fork_server or run.job_code_origin is None:
            super().launch_run(context)
            return
        self._instance.add_run_tags(run.run_id, {FORKED_TAG: socket.gethostname()})
        args = ExecuteRunArgs(
            job_origin=run.job_code_origin,
            run_id=run.run_id,
            instance_ref=self._instance.get_ref(),
            set_exit_code_on_failure=True,
        )
        with self._server_lock:
            if self._server is None or not self._server.alive():
                self._server = _RunWorkerServer()
            pid = self._server.fork(serialize_value(args))
        self._instance.report_engine_event(f"Forked run worker (pid: {pid}) from the run worker server.", run,
                                           cls=self.__class__)  # fmt: skip

    def dispose(self) -> None:
        with self._server_lock:
            if self._server is not None:
                self._server.close()
                self._server = None
        super().dispose()

    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished or FORKED_TAG not in run.tags:
            return super().terminate(run_id)
        worker = self._worker(run)
        self._instance.report_run_canceling(run)
        if worker is None:
            return False
        try:  # what the code server's cancel does: an interrupt, which the run worker turns into CANCELED
            os.kill(worker[0], signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

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
        local = grpc_info.get("socket") or is_local_host(grpc_info.get("host") or run.tags.get(FORKED_TAG))
        if not local:
            return None
        records = self._instance.get_records_for_run(run.run_id, of_type=DagsterEventType.ENGINE_EVENT).records
        for record in reversed(records):
            message = record.event_log_entry.message or ""
            if message.startswith(_STARTED):
                return int(message[len(_STARTED) :].split(")")[0]), record.timestamp
        return None


class _RunWorkerServer:
    """run_worker_server.py as a child of this process (the daemon's, in a deployment): one line per run. Workers
    get the environment this process had when the server started (as Dagster's workers get the code server's)."""

    def __init__(self):
        command = [sys.executable, "-m", "dc_pipeline.defs.operations.run_worker_server"]
        self._process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=default_interrupts
        )  # cancel interrupts a worker: it must not inherit an ignored SIGINT
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the run worker server exited with code {self._process.wait()} while starting")

    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """The server exits once its input closes; workers it forked finish their runs."""
        self._process.stdin.close()
        self._process.wait(timeout=30)

    def fork(self, execute_run_args: str) -> int:
        self._process.stdin.write(execute_run_args + "\n")
        self._process.stdin.flush()
        reply = self._process.stdout.readline().strip()
        if not reply.isdigit():
            raise RuntimeError(f"the run worker server exited with code {self._process.poll()} instead of a pid")
        return int(reply)
