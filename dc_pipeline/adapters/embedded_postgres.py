"""A private PostgreSQL cluster for the embedded default and for tests.

System PostgreSQL binaries are used where present (initdb refuses to run as root, so a root
process runs the server as the unprivileged `nobody` user); otherwise the `pgserver` wheel,
which carries its own server. The cluster keeps its data in a folder, listens on 127.0.0.1 only,
trusts local connections (it is a throwaway/dev cluster: never expose it), and is reused by later
runs: `ensure_running()` starts it once, `stop()` shuts it down cleanly.

The state file (`embedded.json`) records the data folder relative to the project's folder, so a moved
project keeps its data; a server answering on the recorded port counts only when it serves this very
data folder, so a copied project gets its own server instead of writing into the original's. Starts
are serialised by a lock file in the folder: two commands starting at once both succeed.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dc_pipeline.adapters import postmaster_pid

SUPERUSER = "dc"
LOCK_FILE = "embedded.lock"
LOCK_TIMEOUT_S = 300.0


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started; the message names the cause and the fix."""


@dataclass(frozen=True)
class StartReport:
    """What `ensure_running` found: whether it had to start the server, and since when it was down
    (the last write of the server's log, when there is one)."""

    was_down: bool
    created: bool = False
    last_seen: datetime | None = None


def _find_system_bin() -> Path | None:
    """The folder holding initdb/pg_ctl/postgres of the newest system PostgreSQL, if any."""
    override = os.environ.get("DC_PG_BIN")
    candidates = [override] if override else []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(os.path.realpath(initdb)).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and all((Path(folder) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def _mtime(path: Path) -> datetime | None:
    with contextlib.suppress(OSError):
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return None


@dataclass
class EmbeddedPostgres:
    """A cluster in `root` (data in root/pgdata, state in root/embedded.json)."""

    root: Path
    backend: str = "auto"  # auto | system | pgserver

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self._state_file = self.root / "embedded.json"
        self.last_start: StartReport | None = None

    # -- public -----------------------------------------------------------------------------
    def exists(self) -> bool:
        """A cluster was initialised in this folder (its data may be running or not)."""
        state = self._read_state()
        if state and state.get("backend") == "pgserver":
            return (self.root / "pgserver_data" / "PG_VERSION").exists()
        return (self._resolve_datadir(state) / "PG_VERSION").exists()

    def ensure_running(self, create: bool = True) -> str:
        """Start the cluster if needed and return the admin URL (database `postgres`). With
        `create=False` a folder without a cluster is an error instead of a new empty cluster."""
        if not create and not self.exists():
            raise EmbeddedPostgresError(
                f"no embedded database in {self.root}: nothing was ever started there. Run the command in the "
                "project folder that holds .dc_pipeline, set DC_HOME to that .dc_pipeline folder, or set "
                "DATABASE_URL to your server."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        with self._start_lock():
            state = self._read_state()
            if (state and state.get("backend") == "pgserver") or self._choose_backend() == "pgserver":
                return self._start_pgserver()
            datadir = self._resolve_datadir(state)
            running = postmaster_pid.live_server(datadir)
            if running is None or running.port is None:
                return self._start_system(state, datadir)
            self._wait_ready(running.port)  # this folder's server (perhaps still starting, or its folder moved)
            self.last_start = StartReport(was_down=False)
            if not state or state.get("port") != running.port or state.get("datadir") != self._recorded(datadir):
                self._write_system_state(state, datadir, running.port)
            return self._url(running.port)

    def url(self, database: str = "postgres") -> str:
        return self.ensure_running().rsplit("/", 1)[0] + f"/{database}"

    def server_pid(self) -> int | None:
        """The pid of this folder's running system server (None when none runs, or with the pgserver backend):
        what a benchmark reads the database's CPU time from."""
        state = self._read_state()
        if not state or state.get("backend") == "pgserver":
            return None
        running = postmaster_pid.live_server(self._resolve_datadir(state))
        return None if running is None else running.pid

    def stop(self) -> None:
        """Stop this folder's server; never one that a copied or stale pid file names."""
        state = self._read_state()
        if not state:
            return
        if state.get("backend") == "pgserver":
            with contextlib.suppress(Exception):
                self._pgserver().cleanup()
            return
        datadir = self._resolve_datadir(state)
        if postmaster_pid.live_server(datadir) is not None:
            pg_ctl = Path(state["bin"]) / "pg_ctl"
            self._run([str(pg_ctl), "-D", str(datadir), "-m", "fast", "-w", "stop"], check=False)

    # -- where the data live ----------------------------------------------------------------
    def _datadir(self) -> Path:
        """Where a new cluster goes; outside the project when the server user cannot reach it."""
        datadir = self.root / "pgdata"
        if os.geteuid() == 0 and not self._reachable_by_server_user(self.root):
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
            datadir = Path("/tmp") / f"dc_pipeline_pg_{digest}"
        return datadir

    def _resolve_datadir(self, state: dict | None) -> Path:
        """The data folder of this project. A folder inside the project moves with it. An outside one
        (see `_datadir`) follows a moved project but not a copy: a copy whose original still uses it
        gets its own folder."""
        recorded = (state or {}).get("datadir")
        if not recorded:
            return self._datadir()
        path = Path(recorded)
        if not path.is_absolute():
            return self.root / path
        if path.name == "pgdata":  # an absolute path written by an older version: inside its project
            return self.root / "pgdata"
        owner = Path(state.get("root") or self.root)
        if owner != self.root and self._folder_uses(owner, path):
            return self._datadir()
        return path

    def _folder_uses(self, root: Path, datadir: Path) -> bool:
        try:
            other = json.loads((root / "embedded.json").read_text())
        except (OSError, json.JSONDecodeError):
            return False
        return other.get("datadir") == str(datadir) and Path(other.get("root") or root) == root

    def _recorded(self, datadir: Path) -> str:
        return str(datadir.relative_to(self.root)) if datadir.is_relative_to(self.root) else str(datadir)

    # -- system binaries ------------------------------------------------------------------
    def _choose_backend(self) -> str:
        wanted = os.environ.get("DC_PG_BACKEND", self.backend)
        if wanted == "pgserver":
            return "pgserver"
        if _find_system_bin() is not None:
            return "system"
        if wanted == "system":
            raise EmbeddedPostgresError(
                "no PostgreSQL binaries found (initdb, pg_ctl, postgres). Install PostgreSQL, set "
                "DC_PG_BIN to its bin folder, or set DATABASE_URL to an existing server."
            )
        return "pgserver"

    def _server_user(self) -> pwd.struct_passwd | None:
        return pwd.getpwnam("nobody") if os.geteuid() == 0 else None

    def _reachable_by_server_user(self, path: Path) -> bool:
        user = self._server_user()
        if user is None:
            return True
        result = subprocess.run(["test", "-w", str(path)], user=user.pw_uid, group=user.pw_gid, capture_output=True)
        if result.returncode == 0:
            return True
        # The folder may be root-owned but traversable: hand the data folder to the server user.
        result = subprocess.run(["test", "-x", str(path)], user=user.pw_uid, group=user.pw_gid, capture_output=True)
        return result.returncode == 0

    def _run(self, args: list[str], check: bool = True, advice: str = "") -> subprocess.CompletedProcess:
        user = self._server_user()
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        if user:
            env["HOME"] = "/tmp"
        result = subprocess.run(args, capture_output=True, text=True, env=env, cwd="/", **kwargs)
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{Path(args[0]).name} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-800:]}. {advice}"
                "Or set DATABASE_URL to an existing server."
            )
        return result

    def _start_system(self, state: dict | None, datadir: Path) -> str:
        bindir = _find_system_bin()
        assert bindir is not None
        user = self._server_user()
        logfile = datadir / "server.log"
        created = not (datadir / "PG_VERSION").exists()
        last_seen = None if created else _mtime(logfile)
        if created:
            datadir.mkdir(parents=True, exist_ok=True)
            if user:
                os.chown(datadir, user.pw_uid, user.pw_gid)
            os.chmod(datadir, 0o700)
            self._run(
                [str(bindir / "initdb"), "-D", str(datadir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
                + ["--no-instructions"],
                advice=f"Check free space and the permissions of {datadir.parent}. ",
            )
        if user and not created and datadir.stat().st_uid != user.pw_uid:
            _chown_tree(datadir, user)  # copied by root without keeping owners: the server must own its data
        try:
            postmaster_pid.remove_stale(datadir)  # a crash's leftover or a copy's: never signal its pid
        except postmaster_pid.UncertainOwnerError as exc:
            raise EmbeddedPostgresError(
                f"{exc}: it may be a server using {datadir}. Stop it, or remove that pid file if no server "
                "uses the folder."
            ) from None
        port = state["port"] if state and state.get("port") and not _port_answers(state["port"]) else _free_port()
        # Tuned for a small private server: fast start, no fsync stalls in throwaway clusters.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' "
            f"-c max_connections=200 -c shared_buffers=256MB -c max_wal_size=2GB "
            f"-c synchronous_commit=off"
        )
        result = self._run(
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(logfile), "-o", options, "-w", "-t", "60", "start"],
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(
                f"the embedded server did not start ({(result.stderr or result.stdout).strip()[-300:]}). "
                f"Last lines of {logfile}: {_log_tail(logfile)}. The data in {datadir} are kept: fix the cause "
                "named in the log and retry, or set DATABASE_URL to an existing server."
            )
        self._write_system_state(state, datadir, port, bindir)
        self._wait_ready(port)
        self.last_start = StartReport(was_down=True, created=created, last_seen=last_seen)
        return self._url(port)

    def _wait_ready(self, port: int, timeout_s: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self._url(port), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise EmbeddedPostgresError(
                        f"embedded PostgreSQL did not accept connections on port {port}: {exc}"
                    ) from None
                time.sleep(0.2)

    # -- pgserver wheel -------------------------------------------------------------------
    def _pgserver(self):
        try:
            import pgserver
        except ImportError:
            raise EmbeddedPostgresError(
                "no PostgreSQL binaries on this machine and the `pgserver` package is not installed: "
                "pip install pgserver, or set DATABASE_URL to an existing server."
            ) from None
        return pgserver.get_server(self.root / "pgserver_data", cleanup_mode=None)

    def _start_pgserver(self) -> str:
        with contextlib.suppress(postmaster_pid.UncertainOwnerError):
            postmaster_pid.remove_stale(self.root / "pgserver_data")
        was_down = postmaster_pid.live_server(self.root / "pgserver_data") is None
        server = self._pgserver()
        uri = server.get_uri()
        self._write_state({"backend": "pgserver", "uri": uri})
        self.last_start = StartReport(was_down=was_down)
        return uri

    # -- state ------------------------------------------------------------------------------
    def _url(self, port: int) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self._state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _write_system_state(self, state: dict | None, datadir: Path, port: int, bindir: Path | None = None) -> None:
        binary = str(bindir) if bindir else (state or {}).get("bin") or str(_find_system_bin())
        self._write_state(
            {
                "backend": "system",
                "bin": binary,
                "datadir": self._recorded(datadir),
                "port": port,
                "root": str(self.root),
            }
        )

    def _write_state(self, state: dict) -> None:
        partial = self._state_file.with_suffix(".json.partial")
        partial.write_text(json.dumps(state, indent=2))
        partial.replace(self._state_file)

    @contextlib.contextmanager
    def _start_lock(self):
        """One start at a time per folder; a second command waits, then finds the server running."""
        with open(self.root / LOCK_FILE, "a+") as handle:
            deadline = time.monotonic() + LOCK_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise EmbeddedPostgresError(
                            f"another command has been starting the embedded server in {self.root} for "
                            f"{LOCK_TIMEOUT_S:.0f} s ({self.root / LOCK_FILE} is locked); wait for it or stop it"
                        ) from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _chown_tree(folder: Path, user: pwd.struct_passwd) -> None:
    for path in (folder, *folder.rglob("*")):
        os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)


def _log_tail(logfile: Path, lines: int = 3) -> str:
    try:
        text = logfile.read_text(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return f"no log at {logfile}"
    return " | ".join(text) or f"{logfile} is empty"
