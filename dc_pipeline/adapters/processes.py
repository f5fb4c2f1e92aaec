"""Whether a process recorded earlier still runs on this machine (the run worker health check), and the signal
dispositions a started Dagster process needs.

A pid alone is not enough: after a crash the kernel may hand the same pid to a new, unrelated process. A process
is the one recorded only if it is alive and started no later than the moment it was recorded.
"""

from __future__ import annotations

import signal
import socket

import psutil

# Process start times are read from /proc with clock-tick resolution; recording happens after the start.
_START_SLACK_S = 2.0

# Host names under which a local code server registers itself (dagster dev, dagster-daemon run -m ...).
_LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


def is_local_host(host: str | None) -> bool:
    """True when `host` names this machine, so its processes can be inspected here."""
    if host is None:
        return False
    return host in _LOCAL_NAMES or host in {socket.gethostname(), socket.getfqdn()}


def process_gone(pid: int, recorded_at: float) -> str | None:
    """None while process `pid`, recorded at `recorded_at` (epoch seconds), still runs; otherwise what became of
    it, in words for an operator."""
    try:
        process = psutil.Process(pid)
        status, started = process.status(), process.create_time()
    except psutil.NoSuchProcess:
        return f"process {pid} no longer exists (killed, crashed or the machine restarted)"
    except psutil.AccessDenied:
        return None  # it exists and belongs to someone else's session: not ours to judge
    if status in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
        return f"process {pid} has exited (status {status})"
    if started > recorded_at + _START_SLACK_S:
        return f"process {pid} no longer exists; the pid now belongs to another process started later"
    return None


def default_interrupts() -> None:
    """`preexec_fn` for a Dagster child process: interrupt and termination back to their defaults.

    A background job of a non-interactive shell (CI, a script's `&`) starts with SIGINT ignored, and children inherit
    that. Dagster maps SIGTERM to the SIGINT handler (`setup_interrupt_handlers`), so such a `dagster dev`, code
    server or run worker ignored termination too: stopping it waited forever, a cancelled run kept running."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
