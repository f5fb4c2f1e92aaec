"""A private PostgreSQL cluster for the embedded default and for tests.

System PostgreSQL binaries are used where present (initdb refuses to run as root, so a root
process runs the server as the unprivileged `nobody` user); otherwise the `pgserver` wheel,
which carries its own server. The cluster keeps its data in a folder, listens on 127.0.0.1 only,
trusts local connections (it is a throwaway/dev cluster: never expose it), and is reused by later
runs: `ensure_running()` starts it once, `stop()` shuts it down cleanly.
"""

from __future__ import annotations

import contextlib
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
from pathlib import Path

SUPERUSER = "dc"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started; the message names the cause and the fix."""


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


@dataclass
class EmbeddedPostgres:
    """A cluster in `root` (data in root/pgdata, state in root/embedded.json)."""

    root: Path
    backend: str = "auto"  # auto | system | pgserver

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self._state_file = self.root / "embedded.json"

    # -- public -----------------------------------------------------------------------------
    def ensure_running(self) -> str:
        """Start the cluster if needed and return the admin URL (database `postgres`)."""
        self.root.mkdir(parents=True, exist_ok=True)
        state = self._read_state()
        if state and state.get("backend") == "pgserver":
            return self._start_pgserver()
        if state and _port_answers(state["port"]):
            return self._url(state["port"])
        backend = self._choose_backend(state)
        if backend == "pgserver":
            return self._start_pgserver()
        return self._start_system(state)

    def url(self, database: str = "postgres") -> str:
        return self.ensure_running().rsplit("/", 1)[0] + f"/{database}"

    def stop(self) -> None:
        state = self._read_state()
        if not state:
            return
        if state.get("backend") == "pgserver":
            with contextlib.suppress(Exception):
                self._pgserver().cleanup()
            return
        pg_ctl = Path(state["bin"]) / "pg_ctl"
        if (Path(state["datadir"]) / "postmaster.pid").exists():
            self._run([str(pg_ctl), "-D", state["datadir"], "-m", "fast", "-w", "stop"], check=False)

    # -- system binaries ------------------------------------------------------------------
    def _choose_backend(self, state: dict | None) -> str:
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

    def _datadir(self) -> Path:
        """Where the data lives; outside the project when the server user cannot reach it."""
        datadir = self.root / "pgdata"
        if os.geteuid() == 0 and not self._reachable_by_server_user(self.root):
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
            datadir = Path("/tmp") / f"dc_pipeline_pg_{digest}"
        return datadir

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

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        user = self._server_user()
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        if user:
            env["HOME"] = "/tmp"
        result = subprocess.run(args, capture_output=True, text=True, env=env, cwd="/", **kwargs)
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{Path(args[0]).name} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-800:]}. "
                f"Remove {self.root} to start from a fresh cluster, or set DATABASE_URL to an existing server."
            )
        return result

    def _start_system(self, state: dict | None) -> str:
        bindir = _find_system_bin()
        assert bindir is not None
        datadir = Path(state["datadir"]) if state else self._datadir()
        user = self._server_user()
        if not (datadir / "PG_VERSION").exists():
            datadir.mkdir(parents=True, exist_ok=True)
            if user:
                os.chown(datadir, user.pw_uid, user.pw_gid)
            os.chmod(datadir, 0o700)
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ]
            )
        port = state["port"] if state and not _port_answers(state["port"]) else _free_port()
        logfile = datadir / "server.log"
        # Tuned for a small private server: fast start, no fsync stalls in throwaway clusters.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' "
            f"-c max_connections=200 -c shared_buffers=256MB -c max_wal_size=2GB "
            f"-c synchronous_commit=off"
        )
        stale_pid = datadir / "postmaster.pid"
        if stale_pid.exists():
            self._run([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "fast", "-w", "stop"], check=False)
            with contextlib.suppress(FileNotFoundError):
                stale_pid.unlink()
        self._run(
            [str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(logfile), "-o", options, "-w", "-t", "60", "start"]
        )
        self._write_state({"backend": "system", "bin": str(bindir), "datadir": str(datadir), "port": port})
        self._wait_ready(port)
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
        server = self._pgserver()
        uri = server.get_uri()
        self._write_state({"backend": "pgserver", "uri": uri})
        return uri

    # -- state ------------------------------------------------------------------------------
    def _url(self, port: int) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self._state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def _write_state(self, state: dict) -> None:
        self._state_file.write_text(json.dumps(state, indent=2))
