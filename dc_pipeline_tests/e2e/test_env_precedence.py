"""The demo's environment reaches a run launched from the UI: a real `dagster dev` (webserver, daemon,
code server) started the way `dc-pipeline demo` starts it, in a project folder whose `.env` is the
harmful one the issue found (empty API_BASE_URLS, SECRET_KEY and API_KEY, OPTUNA_N_TRIALS=100,
OPTUNA_N_JOBS=-1); the run is submitted over GraphQL and executes in its own run worker process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from dotenv import dotenv_values

from dc_pipeline.adapters.env_file import load_env_file
from dc_pipeline.adapters.processes import default_interrupts
from dc_pipeline.ui_launch import PATH_SETTINGS, dagster_dev_process

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HARMFUL_ENV = "API_BASE_URLS=\nSECRET_KEY=\nAPI_KEY=\nOPTUNA_N_TRIALS=100\nOPTUNA_N_JOBS=-1\nLOG_LEVEL=DEBUG\n"
SPEC_VARIABLES = (
    "DATABASE_URL DATABASE_HOST DATABASE_PORT DATABASE_NAME DATABASE_USER DATABASE_PASSWORD API_BASE_URLS API_TIMEOUT "
    "API_RETRY_ATTEMPTS API_RETRY_DELAY SECRET_KEY API_KEY AUTH_TOKEN LOG_LEVEL CACHE_TIMEOUT OPTUNA_N_TRIALS "
    "OPTUNA_TIMEOUT OPTUNA_N_JOBS OPTUNA_STORAGE_URL REPORTS_DIR BACKUP_DIR LOGS_DIR DC_ENV"
).split()


def test_the_shipped_env_lists_every_variable_and_sets_none():
    for name in (".env", ".env.example"):
        text = (REPO / name).read_text()
        assert dotenv_values(REPO / name) == {}, name  # nothing active: nothing to override
        assert all(f"# {v}=" in text for v in SPEC_VARIABLES), name


def test_the_loading_rule_environment_first_and_empty_never_applied(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(HARMFUL_ENV + "CACHE_TIMEOUT=60\n")
    environ = {"OPTUNA_N_TRIALS": "5", "API_KEY": "from-shell"}
    applied = load_env_file(env_file, environ)
    assert applied == {"OPTUNA_N_JOBS": "-1", "LOG_LEVEL": "DEBUG", "CACHE_TIMEOUT": "60"}
    assert environ == {"OPTUNA_N_TRIALS": "5", "API_KEY": "from-shell", **applied}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def test_a_run_launched_by_dagster_dev_sees_the_demo_environment_not_the_env_file(tmp_path):
    from dagster_graphql import DagsterGraphQLClient

    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(HARMFUL_ENV)
    out = tmp_path / "probe.json"
    # What `dc-pipeline demo` holds when it starts the UI: its .env applied under the rule, then the
    # simulator's URL, the dev keys and the demo's tuning budget.
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DAGSTER_", "OPTUNA_", "API_", "SECRET")) and k not in PATH_SETTINGS
    }
    load_env_file(project / ".env", environ)
    environ |= {
        "API_BASE_URLS": "http://127.0.0.1:7999",
        "SECRET_KEY": "demo-secret",
        "API_KEY": "demo-key",
        "OPTUNA_N_TRIALS": "5",
        "OPTUNA_N_JOBS": "1",
        "ENV_PROBE_OUT": str(out),
        "PYTHONPATH": str(REPO),  # the probe location lives with the tests
    }
    port = _free_port()
    command, cwd, env = dagster_dev_process(
        "dc_pipeline_tests.e2e.env_probe_location", port, tmp_path / "dagster_home", environ, root=project
    )
    ui = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=default_interrupts,  # as the demo starts it: SIGTERM ends it even from a background job
    )  # fmt: skip
    try:
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)

        def submitted():
            try:
                return client.submit_job_execution("env_probe_job")
            except Exception:  # the webserver or the code location is still starting
                return None

        run_id = _wait_for(submitted, 180, "dagster dev to accept a run")
        status = _wait_for(
            lambda: (s := client.get_run_status(run_id).value) in ("SUCCESS", "FAILURE", "CANCELED") and s,
            180,
            "the run to finish",
        )
        assert status == "SUCCESS"
        seen = json.loads(out.read_text())
    finally:
        os.killpg(ui.pid, signal.SIGTERM)  # dagster dev and the processes it started (its own session)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
    assert seen["pid"] not in (os.getpid(), ui.pid)  # executed in a run worker process
    assert {k: seen[k] for k in ("API_BASE_URLS", "OPTUNA_N_TRIALS", "OPTUNA_N_JOBS", "SECRET_KEY", "API_KEY")} == {
        "API_BASE_URLS": "http://127.0.0.1:7999",
        "OPTUNA_N_TRIALS": "5",
        "OPTUNA_N_JOBS": "1",
        "SECRET_KEY": "demo-secret",
        "API_KEY": "demo-key",
    }
    assert seen["REPORTS_DIR"] == str(project / "reports") and seen["DC_HOME"] == str(project / ".dc_pipeline")
