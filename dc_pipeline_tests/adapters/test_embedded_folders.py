"""The embedded server when its project folder is moved or copied, when two commands start it at once,
and when a pid file names somebody else's process: real folders, real clusters, real processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres, EmbeddedPostgresError, _find_system_bin

pytestmark = pytest.mark.skipif(_find_system_bin() is None, reason="no system PostgreSQL binaries on this machine")


@pytest.fixture()
def place():
    """A parent folder for project folders; every server started below it is stopped afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="dc_embedded_folders_"))
    os.chmod(parent, 0o755)
    yield parent
    for state in parent.glob("**/embedded.json"):
        EmbeddedPostgres(state.parent).stop()
    shutil.rmtree(parent, ignore_errors=True)


def _project(parent: Path, name: str) -> Path:
    folder = parent / name
    folder.mkdir(mode=0o755)
    return folder / ".dc_pipeline"


def _write(admin_url: str, value: int) -> None:
    postgres.ensure_database(admin_url, "digi_cadence")
    with postgres.connect(postgres.database_url(admin_url, "digi_cadence")) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS kept (x int)")
        conn.execute("INSERT INTO kept VALUES (%s)", (value,))
        conn.commit()


def _kept(admin_url: str) -> list[int]:
    with postgres.connect(postgres.database_url(admin_url, "digi_cadence")) as conn:
        return [r[0] for r in conn.execute("SELECT x FROM kept ORDER BY x").fetchall()]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_a_moved_stopped_project_finds_its_data_and_leaves_nothing_at_the_old_path(place):
    old = _project(place, "before")
    server = EmbeddedPostgres(old)
    _write(server.ensure_running(), 1)
    server.stop()
    (place / "before").rename(place / "after")

    moved = EmbeddedPostgres(place / "after" / ".dc_pipeline")
    url = moved.ensure_running()
    assert _kept(url) == [1]
    assert moved.last_start.was_down and not moved.last_start.created
    assert not (place / "before").exists()  # no new empty cluster at the old path


def test_a_project_moved_while_its_server_runs_keeps_that_server(place):
    server = EmbeddedPostgres(_project(place, "before"))
    url = server.ensure_running()
    _write(url, 2)
    (place / "before").rename(place / "after")

    moved = EmbeddedPostgres(place / "after" / ".dc_pipeline")
    assert moved.ensure_running() == url
    assert not moved.last_start.was_down
    assert _kept(url) == [2] and not (place / "before").exists()
    moved.stop()
    assert not _answers(_port(url))


def test_a_copied_project_gets_its_own_server_and_never_writes_into_the_original(place):
    original = EmbeddedPostgres(_project(place, "original"))
    url = original.ensure_running()
    _write(url, 3)
    with postgres.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    # Copied while the original runs: the copy's postmaster.pid names the original's live server.
    shutil.copytree(place / "original", place / "copy", symlinks=True)

    copy = EmbeddedPostgres(place / "copy" / ".dc_pipeline")
    copy_url = copy.ensure_running()
    assert _port(copy_url) != _port(url)
    assert _kept(copy_url) == [3]  # the copy has the data that were copied
    _write(copy_url, 4)
    assert _kept(url) == [3] and _kept(copy_url) == [3, 4]
    copy.stop()  # stops the copy's server only
    assert _answers(_port(url)) and not _answers(_port(copy_url))
    assert _kept(url) == [3]


def _datadir_of(home: Path) -> Path:
    return Path(json.loads((home / "embedded.json").read_text())["datadir"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the outside data folder is used only when root runs the server")
def test_a_data_folder_outside_the_project_follows_a_move_but_not_a_copy(place):
    locked = place / "private"
    locked.mkdir(mode=0o700)  # the server user (nobody) cannot enter: the data go to /tmp
    server = EmbeddedPostgres(_project(locked, "before"))
    outside = []
    try:
        url = server.ensure_running()
        outside.append(_datadir_of(locked / "before" / ".dc_pipeline"))
        assert outside[0].is_absolute() and not outside[0].is_relative_to(locked)
        _write(url, 5)
        server.stop()
        (locked / "before").rename(locked / "after")
        moved = EmbeddedPostgres(locked / "after" / ".dc_pipeline")
        assert _kept(moved.ensure_running()) == [5]
        shutil.copytree(locked / "after", locked / "copy", symlinks=True)
        copy = EmbeddedPostgres(locked / "copy" / ".dc_pipeline")
        copy_url = copy.ensure_running()
        outside.append(_datadir_of(locked / "copy" / ".dc_pipeline"))
        assert copy.last_start.created and outside[1] != outside[0]  # the data never lived in the folder
        _write(copy_url, 6)
        assert _kept(moved.ensure_running()) == [5] and _kept(copy_url) == [6]
    finally:
        for home in locked.glob("*/.dc_pipeline"):
            EmbeddedPostgres(home).stop()
        for folder in outside:
            shutil.rmtree(folder, ignore_errors=True)


STARTER = (
    "from dc_pipeline.adapters.database_location import resolve_source_url; print(resolve_source_url(), flush=True)"
)


def _start_two_at_once(home: Path) -> list[subprocess.CompletedProcess]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")} | {"DC_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=180), *p.communicate()) for p in procs]


def test_two_commands_starting_at_once_both_succeed_on_a_first_start_and_on_a_stopped_cluster(place):
    home = _project(place, "project")
    for round_ in ("first start", "stopped cluster"):
        results = _start_two_at_once(home)
        assert [r.returncode for r in results] == [0, 0], (round_, [r.stderr[-500:] for r in results])
        urls = {r.stdout.strip() for r in results}
        assert len(urls) == 1 and urls.pop().endswith("/digi_cadence"), round_
        EmbeddedPostgres(home).stop()


def test_a_pid_file_naming_a_live_process_of_another_folder_is_neither_signalled_nor_trusted(place):
    home = _project(place, "project")
    server = EmbeddedPostgres(home)
    _write(server.ensure_running(), 7)
    server.stop()
    # Run as the server's user when root, so the old `pg_ctl stop` on this file could have signalled it.
    bystander = subprocess.Popen(["sleep", "60"], user="nobody" if os.geteuid() == 0 else None)
    try:
        state_datadir = home / "pgdata"
        (state_datadir / "postmaster.pid").write_text(
            f"{bystander.pid}\n{state_datadir}\n0\n5432\n\n127.0.0.1\n0\nready\n"
        )
        url = EmbeddedPostgres(home).ensure_running()
        assert _kept(url) == [7]
        assert bystander.poll() is None  # not stopped: the old code ran `pg_ctl stop` on such a file
    finally:
        bystander.kill()


def test_a_failed_start_keeps_the_data_and_never_advises_deleting_them(place):
    home = _project(place, "project")
    server = EmbeddedPostgres(home)
    _write(server.ensure_running(), 8)
    server.stop()
    with open(home / "pgdata" / "postgresql.conf", "a") as conf:
        conf.write("\nshared_buffers = 'not a size'\n")
    with pytest.raises(EmbeddedPostgresError) as info:
        EmbeddedPostgres(home).ensure_running()
    message = str(info.value)
    assert not re.search(r"\b(remove|delete|rm)\b", message, re.IGNORECASE)
    assert f"The data in {home / 'pgdata'} are kept" in message and "shared_buffers" in message
    assert (home / "pgdata" / "PG_VERSION").exists()


def test_without_create_a_folder_with_no_cluster_is_an_error_not_a_new_empty_cluster(place):
    home = place / "elsewhere" / ".dc_pipeline"
    with pytest.raises(EmbeddedPostgresError) as info:
        EmbeddedPostgres(home).ensure_running(create=False)
    assert f"no embedded database in {home}" in str(info.value) and "DATABASE_URL" in str(info.value)
    assert not home.exists()
