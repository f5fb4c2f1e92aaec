"""docker/: the compose file parses, references files that exist, and its code-location command
starts here and answers the gRPC health check (Docker itself cannot run in the test machine)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml
from dagster._grpc.client import DagsterGrpcClient

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.processes import default_interrupts

DOCKER = Path(__file__).resolve().parents[2] / "docker"
ROOT = DOCKER.parent


def _compose():
    return yaml.safe_load((DOCKER / "docker-compose.yaml").read_text())


def test_compose_services_and_referenced_files():
    compose = _compose()
    assert {"postgres", "dc_pipeline_code", "webserver", "daemon"} <= set(compose["services"])
    code = compose["services"]["dc_pipeline_code"]
    build = code["build"]
    assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == DOCKER / "Dockerfile"
    for service in compose["services"].values():
        assert "healthcheck" in service
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), source
    dockerfile = (DOCKER / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    # The daemon and webserver read docker/workspace.yaml, which points at the code service.
    workspace = yaml.safe_load((DOCKER / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    assert grpc["host"] == "dc_pipeline_code" and str(grpc["port"]) in " ".join(code["command"])
    # Every env var the instance config reads is set for the Dagster services.
    instance = yaml.safe_load((DOCKER / "dagster.yaml").read_text())
    env = compose["services"]["daemon"]["environment"]
    needed = [v["env"] for v in instance["storage"]["custom"]["config"]["postgres_db"].values() if isinstance(v, dict)]
    assert all(name in env for name in needed)
    assert instance["run_launcher"]["class"] == "DockerRunLauncher"
    assert instance["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert {"key": "dagster/backfill", "limit": 2} in instance["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert set(instance["run_launcher"]["config"]["env_vars"]) >= {"DATABASE_URL", "API_KEY", "SECRET_KEY"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_code_location_server_answers_grpc_health_check(fresh_db, tmp_path):
    command = list(_compose()["services"]["dc_pipeline_code"]["command"])
    port = _free_port()
    command[command.index("-p") + 1] = str(port)
    command[command.index("-h") + 1] = "127.0.0.1"
    bindir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DATABASE_URL": fresh_db,
        "REPORTS_DIR": str(tmp_path / "reports"),
        "DAGSTER_HOME": str(tmp_path),
        "PATH": f"{bindir}:{os.environ['PATH']}",
    }
    # As Docker starts it: SIGTERM ends it even when this test runs in a background job that ignores SIGINT.
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=default_interrupts
    )
    try:
        # What `dagster api grpc-health-check` (the compose healthcheck) asks, polled in process.
        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status = client.health_check_query()
            except Exception:  # not listening yet
                status = None
            if status == "SERVING":
                break
            time.sleep(0.5)
        assert server.poll() is None, server.stderr.read().decode()[-2000:]
        assert status == "SERVING"
        assert '"attribute": "defs"' in client.list_repositories()  # dc_pipeline.definitions:defs loaded
    finally:
        # Shutdown time is not what this test checks: stop the server for sure either way.
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    assert postgres.redact_url(fresh_db) == fresh_db  # the trust-auth test server has no password
