"""Whether a recorded process still runs, on real processes: alive, killed, a zombie, and a pid that now
belongs to a process started after the recording."""

import os
import signal
import subprocess
import sys
import time

from dc_pipeline.adapters.processes import default_interrupts, is_local_host, process_gone


def test_a_live_process_is_not_gone_and_a_killed_one_is():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    recorded_at = time.time()
    try:
        assert process_gone(child.pid, recorded_at) is None
        os.kill(child.pid, signal.SIGKILL)
        time.sleep(0.5)  # not reaped yet: a zombie still has its pid
        assert "has exited" in process_gone(child.pid, recorded_at)
        child.wait(timeout=10)
        assert "no longer exists" in process_gone(child.pid, recorded_at)
    finally:
        if child.poll() is None:
            child.kill()


def test_a_pid_held_by_a_process_started_after_the_recording_is_not_the_recorded_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        verdict = process_gone(child.pid, recorded_at=time.time() - 3600)  # recorded an hour before it started
        assert verdict is not None and "belongs to another process started later" in verdict
    finally:
        child.kill()
        child.wait()


def test_local_hosts():
    import socket

    assert is_local_host("localhost") and is_local_host("127.0.0.1") and is_local_host(socket.gethostname())
    assert not is_local_host("code-server.internal.example") and not is_local_host(None)


# A Dagster process as `dagster dev` / `dagster api grpc` set it up: SIGTERM mapped to the SIGINT handler.
_DAGSTER_LIKE = (
    "import time\n"
    "from dagster._utils.interrupts import setup_interrupt_handlers\n"
    "setup_interrupt_handlers()\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _terminated_within(preexec_fn, seconds: float) -> bool:
    """Start the Dagster-like child from a parent that ignores SIGINT (a background job of a non-interactive
    shell), send SIGTERM, and say whether it ended in time."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _DAGSTER_LIKE], stdout=subprocess.PIPE, text=True, preexec_fn=preexec_fn
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.terminate()
        try:
            child.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False
    finally:
        child.kill()
        child.wait()


def test_a_dagster_child_of_a_parent_ignoring_interrupts_still_ends_on_sigterm():
    assert not _terminated_within(None, 3)  # the inherited SIG_IGN makes Dagster ignore SIGTERM as well
    assert _terminated_within(default_interrupts, 10)
