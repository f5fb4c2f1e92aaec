"""The embedded default: system binaries when present, the pgserver wheel otherwise; data reused."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres, _find_system_bin


@pytest.fixture()
def cluster_root():
    root = Path(tempfile.mkdtemp(prefix="dc_embedded_test_"))
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(_find_system_bin() is None, reason="no system PostgreSQL binaries on this machine")
def test_system_cluster_keeps_its_data_across_stop_and_start(cluster_root):
    server = EmbeddedPostgres(cluster_root)
    assert server.server_pid() is None  # nothing started yet
    url = server.ensure_running()
    pid = server.server_pid()
    assert pid is not None and Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"postgres")
    postgres.ensure_database(url, "digi_cadence")
    with postgres.connect(postgres.database_url(url, "digi_cadence")) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
        conn.commit()
    server.stop()
    assert server.server_pid() is None
    again = EmbeddedPostgres(cluster_root).ensure_running()  # a later run reuses the folder
    with postgres.connect(postgres.database_url(again, "digi_cadence")) as conn:
        assert conn.execute("SELECT x FROM kept").fetchall() == [(42,)]
    EmbeddedPostgres(cluster_root).stop()


def test_pgserver_wheel_serves_when_chosen(cluster_root, monkeypatch):
    monkeypatch.setenv("DC_PG_BACKEND", "pgserver")
    server = EmbeddedPostgres(cluster_root)
    url = server.ensure_running()
    try:
        postgres.ensure_database(url, "digi_cadence")
        with postgres.connect(postgres.database_url(url, "digi_cadence")) as conn:
            assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
    finally:
        server.stop()
