"""`dc-pipeline backup` and `status` as a user runs them: real processes in real project folders, each
with its own embedded cluster (no DATABASE_URL)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres, _find_system_bin

pytestmark = pytest.mark.skipif(_find_system_bin() is None, reason="no system PostgreSQL binaries on this machine")


@pytest.fixture()
def folders():
    parent = Path(tempfile.mkdtemp(prefix="dc_cli_ops_"))
    os.chmod(parent, 0o755)
    (parent / "project").mkdir()
    (parent / "elsewhere").mkdir()
    yield parent
    EmbeddedPostgres(parent / "project" / ".dc_pipeline").stop()
    shutil.rmtree(parent, ignore_errors=True)


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DAGSTER_")) and k != "DC_HOME"}
    env |= {"BACKUP_DIR": str(cwd / "backups"), "REPORTS_DIR": str(cwd / "reports"), "LOGS_DIR": str(cwd / "logs")}
    return subprocess.run(
        [sys.executable, "-m", "dc_pipeline.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _status(cwd: Path) -> dict:
    result = _cli(cwd, "status", "--json", "--timeout", "2")
    assert result.returncode in (0, 2), result.stderr
    return json.loads(result.stdout)


def test_backup_from_a_folder_without_a_cluster_fails_clearly_and_starts_nothing(folders):
    elsewhere = folders / "elsewhere"
    result = _cli(elsewhere, "backup")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"no embedded database in {elsewhere / '.dc_pipeline'}" in result.stderr and "DC_HOME" in result.stderr
    assert not (elsewhere / ".dc_pipeline").exists() and not (elsewhere / "backups").exists()


def test_status_sees_a_verified_cli_backup_and_says_when_it_had_to_start_the_database(folders):
    project = folders / "project"
    assert _cli(project, "db", "init").returncode == 0
    unverified = _cli(project, "backup", "--no-verify")
    assert unverified.returncode == 0 and "NOT verified" in unverified.stdout
    assert _status(project)["components"]["backup"]["state"] == "missing"  # only verified backups count
    backup = _cli(project, "backup")
    assert backup.returncode == 0, backup.stderr
    assert "restore test passed" in backup.stdout

    status = _status(project)
    assert status["components"]["backup"]["state"] == "ok", status["components"]["backup"]
    assert status["components"]["source_db"]["state"] == "ok"

    EmbeddedPostgres(project / ".dc_pipeline").stop()  # an outage: the server is down
    status = _status(project)
    source = status["components"]["source_db"]
    assert source["state"] == "warn" and source["measurements"]["was_down"] is True
    assert source["detail"].startswith("the embedded database was down since at least ")
    assert "this status check started it" in source["detail"]
    assert status["status"] != "healthy" and any(
        r.startswith("source_db (critical) warn: the embedded database was down") for r in status["reasons"]
    )

    again = _status(project)["components"]["source_db"]  # it has been up since: no outage to report
    assert again["state"] == "ok" and "was_down" not in again["measurements"]
