"""Who owns a data folder's `postmaster.pid`: the live server of that very folder, or nobody.

A pid file can outlive its server (a crash, a killed container) or be copied with the folder (`cp -r`
of a project whose server runs): then it names a process that is alive but serves another folder.
Acting on such a file (`pg_ctl stop` signals the pid it names) would stop somebody else's server. A
postmaster works in its data folder (it chdirs there), so /proc/<pid>/cwd says which folder it serves,
and it keeps saying so after the folder was moved or renamed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

PID_FILE = "postmaster.pid"


@dataclass(frozen=True)
class PidFile:
    pid: int
    datadir: str  # as the server was started (an old path after a move)
    port: int | None
    status: str  # "ready", "starting", "stopping" (PostgreSQL 10+), or "" when not written yet


class UncertainOwnerError(RuntimeError):
    """The pid file names a live process whose working folder cannot be read."""


def read_pid_file(datadir: Path) -> PidFile | None:
    try:
        lines = (Path(datadir) / PID_FILE).read_text().splitlines()
    except OSError:
        return None
    if not lines or not lines[0].strip().isdigit():
        return None
    port = lines[3].strip() if len(lines) > 3 else ""
    return PidFile(
        pid=int(lines[0]),
        datadir=lines[1].strip() if len(lines) > 1 else "",
        port=int(port) if port.isdigit() else None,
        status=lines[7].strip() if len(lines) > 7 else "",
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def serves(pid: int, datadir: Path, recorded_datadir: str) -> bool:
    """True when process `pid` is alive and works in `datadir`. Raises UncertainOwnerError when it is
    alive and neither /proc nor the recorded path can tell."""
    if pid <= 0 or not _alive(pid):
        return False
    target = Path(datadir).resolve()
    proc = Path(f"/proc/{pid}/cwd")
    try:
        cwd = os.readlink(proc)
    except FileNotFoundError:
        return False  # exited meanwhile
    except OSError:
        if Path("/proc/self").exists():
            raise UncertainOwnerError(
                f"{Path(datadir) / PID_FILE} names process {pid}, which is alive but whose folder cannot be read"
            ) from None
        # No /proc (macOS): trust the path the server recorded when it started.
        with contextlib.suppress(OSError):
            return Path(recorded_datadir).resolve() == target
        return False
    return not cwd.endswith(" (deleted)") and Path(cwd).resolve() == target


def live_server(datadir: Path) -> PidFile | None:
    """The pid file of the server running in `datadir`, or None when none runs there."""
    info = read_pid_file(datadir)
    if info is None or not serves(info.pid, datadir, info.datadir):
        return None
    return info


def remove_stale(datadir: Path) -> bool:
    """Remove a pid file whose server is gone or serves another folder (a copy's). Never signals a
    process. Returns True when a file was removed."""
    info = read_pid_file(datadir)
    # An unreadable file may be one a starting server is writing: PostgreSQL itself judges those.
    if info is None or serves(info.pid, datadir, info.datadir):
        return False
    (Path(datadir) / PID_FILE).unlink(missing_ok=True)
    return True
