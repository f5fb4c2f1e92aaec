"""Shared fixtures: a private throwaway Postgres cluster for the whole test session.

Nothing is mocked: the cluster is a real server (system binaries, or the pgserver wheel) in a
temporary folder, removed at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres


@pytest.fixture(scope="session")
def pg_server():
    """Admin URL of a throwaway cluster (or TEST_DATABASE_URL's server when given)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    root = Path(tempfile.mkdtemp(prefix="dc_pipeline_test_pg_"))
    os.chmod(root, 0o755)
    server = EmbeddedPostgres(root)
    url = server.ensure_running()
    yield url
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture()
def fresh_db(pg_server):
    """A new empty database on the test server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    postgres.ensure_database(pg_server, name)
    url = postgres.database_url(pg_server, name)
    yield url
    with postgres.connect(postgres.database_url(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
