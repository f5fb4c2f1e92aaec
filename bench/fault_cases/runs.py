"""Faults around runs: two runs of one partition at once, the database killed in the middle of a run, and a run
worker killed with its parent (the run worker server) under a real `dagster dev`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import dagster as dg
import psutil

from dc_pipeline.ui_launch import dagster_dev_process
from fault_cases.lab import CLEAR, FAILED, SURVIVED, Case, Lab

RUN_ONE = """
import sys
import dagster as dg
import psutil
from dc_pipeline import runner
from dc_pipeline.definitions import build_definitions
summary = runner.run_projects(build_definitions(), dg.DagsterInstance.get(), [sys.argv[1]], job_name=sys.argv[2])
print("failed:", summary.failed or "none")
"""


def _latest_runs(lab: Lab, job: str, partition: str, n: int) -> list[dg.DagsterRun]:
    return list(lab.instance.get_runs(dg.RunsFilter(job_name=job, tags={"dagster/partition": partition}), limit=n))


def concurrent_runs(lab: Lab) -> Case:
    workers = [lab.python(RUN_ONE, "p1", "scoring_job") for _ in range(2)]
    outputs = [w.communicate(timeout=900)[0] for w in workers]
    lab.texts.extend(("concurrent run output", o) for o in outputs)
    runs = {r.run_id for r in _latest_runs(lab, "scoring_job", "p1", 2)}
    writers = {t: ids & runs for t, ids in lab.run_ids(1).items() if ids & runs}
    mixed = sorted(t for t, ids in writers.items() if len(ids) > 1) or (
        ["across tables"] if len(set().union(*writers.values())) > 1 else []
    )
    both_ok = all("failed: none" in o for o in outputs)
    note = f"both runs {'succeeded' if both_ok else 'did not succeed'}; {len(writers)} tables of p1, " + (
        f"mixed: {', '.join(mixed)}" if mixed else "every one from the same run"
    )
    return Case("two runs of one partition at once", SURVIVED if both_ok and not mixed else FAILED, note)


def _started_step(lab: Lab, job: str, partition: str) -> bool:
    runs = _latest_runs(lab, job, partition, 1)
    if not runs or runs[0].status != dg.DagsterRunStatus.STARTED:
        return False
    return any(e.dagster_event_type == dg.DagsterEventType.STEP_SUCCESS for e in lab.instance.all_logs(runs[0].run_id))


def killed_database(lab: Lab) -> Case:
    assert not lab.run(["p2"], job="scoring_job").failed
    before = {p: lab.project_rows(p) for p in (1, 2)}
    worker = lab.python(RUN_ONE, "p2", "scoring_job")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not _started_step(lab, "scoring_job", "p2") and worker.poll() is None:
        time.sleep(0.5)
    lab.kill_database()
    try:
        output = worker.communicate(timeout=180)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        output = worker.communicate()[0] + "\n(still running 180 s after the database died: killed)"
    lab.texts.append(("run output when the database died", output))
    lab.restart_database()
    after = {p: lab.project_rows(p) for p in (1, 2)}
    lost = sum(max(0, n - after[p].get(t, 0)) for p, rows in before.items() for t, n in rows.items())
    causes = ("cannot connect to Postgres", "server closed the connection", "terminating connection", "connection")
    named = next((line for line in output.splitlines()[::-1] if any(c in line for c in causes)), "")
    killed_run = _latest_runs(lab, "scoring_job", "p2", 1)[0]
    rerun = lab.run(["p2"], job="scoring_job")
    verdict = CLEAR if named and not lost and not rerun.failed else FAILED
    cause = named.strip()[:90] or "no cause named: " + output.strip().splitlines()[-1][:80]
    note = (
        f"{cause}; the killed run is {killed_run.status.value}; rerun after restart "
        f"{'succeeded' if not rerun.failed else 'failed'}"
    )
    return Case("database killed during a run", verdict, note, lost)


LOCATION = "fault_cases.location"  # the project's assets, jobs and resources; no sensors or schedules


def _worker_pid(lab: Lab, run_id: str) -> int | None:
    for record in lab.instance.all_logs(run_id):
        if record.message and record.message.startswith("Started process for run (pid: "):
            return int(record.message.split("pid: ")[1].split(")")[0])
    return None


def killed_run_worker(lab: Lab) -> Case:
    from dagster_graphql import DagsterGraphQLClient

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environ = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command, cwd, env = dagster_dev_process(LOCATION, port, Path(os.environ["DAGSTER_HOME"]), environ, lab.root)
    log = (lab.root / "dagster_dev.log").open("w")
    ui = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    before = lab.project_rows(1)
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        run_id, deadline = None, time.monotonic() + 300
        while run_id is None and time.monotonic() < deadline:
            try:
                run_id = client.submit_job_execution("ingest_job", tags={"dagster/partition": "p1"})
            except Exception:  # the webserver or the code location is still starting
                time.sleep(2)
        if run_id is None:
            tail = (lab.root / "dagster_dev.log").read_text(errors="replace").strip().splitlines()[-1:]
            return Case("run worker and its parent killed (SIGKILL)", FAILED, f"dagster dev took no run: {tail}")
        while time.monotonic() < deadline and not any(
            e.dagster_event_type == dg.DagsterEventType.STEP_SUCCESS for e in lab.instance.all_logs(run_id)
        ):
            time.sleep(0.5)
        pid = _worker_pid(lab, run_id)
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        os.kill(parent, signal.SIGKILL)  # its parent too: the run worker server (fork_server: false: the code server)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        while time.monotonic() - killed < 240 and not lab.instance.get_run_by_id(run_id).is_finished:
            time.sleep(1)
        took = time.monotonic() - killed
        run = lab.instance.get_run_by_id(run_id)
        failure = [
            e.message for e in lab.instance.all_logs(run_id) if e.dagster_event_type == dg.DagsterEventType.RUN_FAILURE
        ]
        # The killed run still holds its pool slots; the daemon gives them back (free_slots_after_run_end_seconds).
        storage = lab.instance.event_log_storage
        while time.monotonic() - killed < 300 and run_id in storage.get_concurrency_run_ids():
            time.sleep(2)
        slots_freed = time.monotonic() - killed if run_id not in storage.get_concurrency_run_ids() else None
    finally:
        tree = psutil.Process(ui.pid).children(recursive=True)  # code servers start sessions of their own
        os.killpg(ui.pid, signal.SIGKILL)
        ui.wait(timeout=30)
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        log.close()
    lab.texts.append(("killed worker run failure", "\n".join(failure)))
    mixed = len(set().union(*lab.run_ids(1).values()) - _api_runs(lab))
    if slots_freed is None:  # a re-execution would wait for the slots forever
        return Case("run worker and its parent killed (SIGKILL)", FAILED, "its pool slots were never given back")
    repaired = lab.run(["p1"])
    after_repair = len(set().union(*lab.run_ids(1).values()) - _api_runs(lab))
    lost = sum(max(0, n - lab.project_rows(1).get(t, 0)) for t, n in before.items())
    named = bool(failure) and f"process {pid} no longer exists" in failure[0]
    verdict = CLEAR if run.status == dg.DagsterRunStatus.FAILURE and named and took < 150 else FAILED
    note = (
        f"{run.status.value} {took:.0f} s after the kill, naming process {pid}; its pool slots back after "
        f"{slots_freed:.0f} s; p1 tables from {mixed} run(s), after re-execution from {after_repair}"
        + ("" if not repaired.failed else " (re-execution failed)")
    )
    return Case("run worker and its parent killed (SIGKILL)", verdict, note, lost)


def _api_runs(lab: Lab) -> set[str]:
    return {r.run_id for r in lab.instance.get_runs(dg.RunsFilter(job_name="api_job"))}
