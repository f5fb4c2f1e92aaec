"""A run whose worker process died ends FAILED, naming the cause (dagster.yaml: LocalRunLauncher + run
monitoring), and runs of one partition queue one behind the other: on a real instance and, end to end, under a
real `dagster dev` whose run worker and its parent (the run worker server) are killed with SIGKILL."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

from dc_pipeline.adapters import postgres
from dc_pipeline.defs.operations.run_launcher import LocalRunLauncher
from dc_pipeline.ui_launch import dagster_dev_process

REPO = Path(__file__).resolve().parents[3]


@dg.op
def noop() -> None:
    pass


@dg.job
def noop_job():
    noop()


def _run_with_worker(instance, pid: int, host: str = "localhost") -> dg.DagsterRun:
    run = instance.create_run_for_job(noop_job, tags={GRPC_INFO_TAG: json.dumps({"host": host, "port": 4266})})
    instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
    return run


def test_the_instance_checks_its_run_workers(instance):
    launcher = instance.run_launcher
    assert isinstance(launcher, LocalRunLauncher) and launcher.supports_check_run_worker_health
    assert instance.run_monitoring_enabled and instance.run_monitoring_poll_interval_seconds <= 60
    # A killed run's pool slots come back (else every later step of its pools waits forever).
    assert 0 < instance.run_monitoring_settings["free_slots_after_run_end_seconds"] <= 120

    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = _run_with_worker(instance, worker.pid)
        assert launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
        elsewhere = _run_with_worker(instance, worker.pid + 1, host="code-server.internal.example")
        worker.kill()
        worker.wait()
        health = launcher.check_run_worker_health(run)
        assert health.status == WorkerStatus.FAILED
        assert health.msg.startswith(f"the run worker died: process {worker.pid} no longer exists")
        # A worker on another machine is not judged from here (its pids mean nothing on this one).
        assert launcher.check_run_worker_health(elsewhere).status == WorkerStatus.RUNNING
        # An in-process run (no worker process recorded) is not judged either.
        in_process = instance.create_run_for_job(noop_job)
        assert launcher.check_run_worker_health(in_process).status == WorkerStatus.RUNNING
    finally:
        if worker.poll() is None:
            worker.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _worker_pid(instance, run_id: str) -> int | None:
    for record in instance.all_logs(run_id):
        if record.message and record.message.startswith("Started process for run (pid: "):
            return int(record.message.split("pid: ")[1].split(")")[0])
    return None


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.mark.slow
def test_killed_run_worker_and_code_server_end_failed_and_one_partition_runs_one_at_a_time(
    instance, pg_server, tmp_path
):
    from dagster_graphql import DagsterGraphQLClient

    port = _free_port()
    # The `instance` fixture's home and database, named here: a package fixture set up later (ops_env) may have
    # pointed DAGSTER_HOME and DAGSTER_PG_URL at its own instance, where this test would never see the runs.
    environ = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DAGSTER_PG_URL": postgres.database_url(pg_server, "dagster_ops_tests"),
    }
    command, cwd, env = dagster_dev_process(
        "dc_pipeline_tests.defs.operations.nap_location", port, Path(instance.root_directory), environ, tmp_path
    )
    log = (tmp_path / "dagster_dev.log").open("w")
    ui = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)

        def submit(partition: str):
            try:
                return client.submit_job_execution("nap_job", tags={"dagster/partition": partition})
            except Exception:  # the webserver or the code location is still starting
                return None

        first = _wait_for(lambda: submit("p1"), 240, "dagster dev to accept a run")
        second, other = submit("p1"), submit("p2")
        pid = _wait_for(lambda: _worker_pid(instance, first), 120, "the first run's worker")
        # Killed before its RUN_START, a run is STARTING: the daemon's monitoring ends it only after
        # run_monitoring.start_timeout_seconds (180 s), without asking the launcher. This test is about a started run.
        _wait_for(
            lambda: instance.get_run_by_id(first).status == dg.DagsterRunStatus.STARTED, 120, "the first run to start"
        )
        _wait_for(lambda: _worker_pid(instance, other), 120, "the run of the other partition to start")
        # The second run of p1 waits in the queue while p2 runs beside the first.
        assert instance.get_run_by_id(second).status == dg.DagsterRunStatus.QUEUED

        killed_at = time.monotonic()
        os.kill(_parent(pid), signal.SIGKILL)  # its parent (the run worker server): nothing else watches it
        os.kill(pid, signal.SIGKILL)
        status = _wait_for(
            lambda: (run := instance.get_run_by_id(first)).is_finished and run.status, 180, "the run to end"
        )
        took = time.monotonic() - killed_at
        failure = [
            e.message for e in instance.all_logs(first) if e.dagster_event_type == dg.DagsterEventType.RUN_FAILURE
        ]
    finally:
        os.killpg(ui.pid, signal.SIGKILL)  # dagster dev and everything it started, orphans included
        ui.wait(timeout=30)
        log.close()
    assert status == dg.DagsterRunStatus.FAILURE and took < 120, (status, took)
    assert f"the run worker died: process {pid} no longer exists" in failure[0], failure


def _launch(instance, job_name: str) -> dg.DagsterRun:
    """A run of nap_location's job launched by the instance's launcher, as the daemon does after dequeuing it."""
    from dagster._core.launcher import LaunchRunContext

    from dc_pipeline_tests.defs.operations import nap_location

    recon = dg.reconstructable(getattr(nap_location, job_name))
    job = getattr(nap_location, job_name)
    run = instance.create_run_for_job(job, job_code_origin=recon.get_python_origin())
    instance.run_launcher.launch_run(LaunchRunContext(dagster_run=run, workspace=None))
    return run


def _forked_pid(instance, run_id: str) -> int | None:
    for record in instance.all_logs(run_id):
        if record.message and "Forked run worker (pid: " in record.message:
            return int(record.message.split("pid: ")[1].split(")")[0])
    return None


def test_run_workers_are_forked_from_the_preloaded_server_and_can_be_cancelled(instance, pg_server, monkeypatch):
    """The launcher forks each run worker from one server process that imported the heavy libraries once; the
    worker runs the job to SUCCESS, and terminating a run interrupts its worker, which ends CANCELED."""
    # Workers resolve the instance from the environment the server starts with: this instance's, whatever a
    # package fixture (ops_env) set since.
    monkeypatch.setenv("DAGSTER_PG_URL", postgres.database_url(pg_server, "dagster_ops_tests"))
    monkeypatch.setenv("DAGSTER_HOME", instance.root_directory)
    launcher = instance.run_launcher
    launcher.dispose()  # a server started by an earlier test may hold another environment
    first = _launch(instance, "quick_job")
    done = _wait_for(lambda: (run := instance.get_run_by_id(first.run_id)).is_finished and run, 120, "quick_job")
    assert done.status == dg.DagsterRunStatus.SUCCESS
    pid = _worker_pid(instance, first.run_id)
    assert pid == _forked_pid(instance, first.run_id)  # the worker that ran it is the one forked

    second = _launch(instance, "quick_job")
    done = _wait_for(lambda: (run := instance.get_run_by_id(second.run_id)).is_finished and run, 120, "quick_job")
    assert done.status == dg.DagsterRunStatus.SUCCESS
    server = launcher._server._process.pid
    assert _worker_pid(instance, second.run_id) != pid  # a worker per run, both from the same server
    assert launcher._server.alive() and server == launcher._server._process.pid

    napping = _launch(instance, "nap_job")
    worker = _wait_for(lambda: _worker_pid(instance, napping.run_id), 120, "nap_job's worker")
    assert _parent(worker) == server
    _wait_for(lambda: instance.get_run_by_id(napping.run_id).status == dg.DagsterRunStatus.STARTED, 60, "STARTED")
    assert launcher.check_run_worker_health(instance.get_run_by_id(napping.run_id)).status == WorkerStatus.RUNNING
    assert launcher.terminate(napping.run_id)
    ended = _wait_for(lambda: (run := instance.get_run_by_id(napping.run_id)).is_finished and run, 60, "the cancel")
    assert ended.status == dg.DagsterRunStatus.CANCELED
    launcher.dispose()
    assert launcher._server is None
