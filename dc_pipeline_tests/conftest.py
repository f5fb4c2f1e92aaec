"""Shared fixtures: a private throwaway Postgres cluster for the whole test session.

Nothing is mocked: the cluster is a real server (system binaries, or the pgserver wheel) in a
temporary folder, removed at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres


def forget_disposed_instance_state() -> None:
    """Each DagsterInstance installs its defs-state storage in a process-wide context variable; once
    a test's instance is gone, later definition loads would follow a dead weak reference. Tests
    use no defs state, so the variable is cleared between them."""
    from dagster._core.storage.defs_state import base

    base._current_storage.set(None)


@pytest.fixture(autouse=True)
def _clean_defs_state_storage():
    forget_disposed_instance_state()
    yield
    forget_disposed_instance_state()


@pytest.fixture()
def webhook():
    """A local HTTP server on 127.0.0.1 collecting posted JSON bodies: (url, list of bodies)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", received
    server.shutdown()


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


PIPELINE_ENV_KEYS = ("DATABASE_URL", "REPORTS_DIR", "DAGSTER_PG_URL", "DAGSTER_HOME")


@contextmanager
def restored_environment(keys=PIPELINE_ENV_KEYS):
    """Environment variables in `keys` are put back as they were when the block ends."""
    saved = {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class PipelineEnv:
    """A source database, a Dagster instance on the same server, and the loaded definitions."""

    def __init__(self, url: str, instance, defs, reports_dir: Path, home: Path):
        self.url, self.instance, self.defs, self.reports_dir, self.home = url, instance, defs, reports_dir, home

    def query(self, sql: str, params=None):
        with postgres.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()


def make_pipeline_env(pg_server: str, tmp: Path, size: str = "small") -> PipelineEnv:
    """Load the demo data into a new database and build definitions bound to it (env vars set)."""
    from dc_pipeline import runner
    from dc_pipeline.cli import load_demo

    name = f"t_{uuid.uuid4().hex[:10]}"
    postgres.ensure_database(pg_server, name)
    url = postgres.database_url(pg_server, name)
    load_demo(url, size, 42)
    reports_dir = tmp / "reports"
    os.environ["DATABASE_URL"] = url
    os.environ["REPORTS_DIR"] = str(reports_dir)
    os.environ["DAGSTER_PG_URL"] = postgres.database_url(pg_server, f"{name}_dagster")
    postgres.ensure_database(pg_server, f"{name}_dagster")
    instance = runner.prepare_instance(tmp / "dagster_home", url)
    forget_disposed_instance_state()
    from dc_pipeline.definitions import build_definitions

    return PipelineEnv(url, instance, build_definitions(), reports_dir, tmp / "dagster_home")


@pytest.fixture(scope="session")
def demo_pipeline(pg_server, tmp_path_factory):
    """The demo data materialized once for the session: reference snapshot + every project."""
    from dc_pipeline import runner

    with restored_environment():
        env = make_pipeline_env(pg_server, tmp_path_factory.mktemp("demo_pipeline"))
        runner.run_reference(env.defs, env.instance)
        env.summary = runner.run_projects(env.defs, env.instance, runner.project_keys(env.instance))
        yield env
        env.instance.dispose()
