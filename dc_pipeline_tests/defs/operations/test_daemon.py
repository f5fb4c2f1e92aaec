"""`dagster-daemon run -m dc_pipeline.definitions` against test databases: the sensors tick on their
own and do not flood the run queue."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorType

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline_tests.conftest import restored_environment

WAIT_S = 60
# code_version_sensor too: the test asserts its one request, which under load may come after the others' ticks.
WATCHED = ("system_health_sensor", "source_change_sensor", "code_version_sensor")


def _ticks(instance) -> dict[str, int]:
    counts = {}
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        counts[state.instigator_name] = len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return counts


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the daemon's own process group (it and the code server it started), then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_daemon_ticks_sensors_without_flooding_the_queue(ops_env, pg_server, tmp_path):
    dagster_db = f"t_{uuid.uuid4().hex[:10]}_daemon"
    postgres.ensure_database(pg_server, dagster_db)
    home = tmp_path / "dagster_home"
    with restored_environment(("DAGSTER_HOME", "DAGSTER_PG_URL")):
        os.environ["DAGSTER_PG_URL"] = postgres.database_url(pg_server, dagster_db)
        instance = runner.prepare_instance(home, ops_env.url)
        # The test watches the sensors only: requested runs stay queued, so no run process outlives
        # the daemon (the project's instance launches up to 2 at a time).
        config = home / "dagster.yaml"
        config.write_text(config.read_text().replace("max_concurrent_runs: 2", "max_concurrent_runs: 0"))
        instance = dg.DagsterInstance.from_config(str(home))
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DATABASE_URL": ops_env.url,
            "REPORTS_DIR": str(tmp_path / "reports"),
            "BACKUP_DIR": str(tmp_path / "backups"),
            "LOGS_DIR": str(tmp_path / "logs"),
            "API_BASE_URLS": "http://127.0.0.1:9",
            "ALERT_WEBHOOK_URL": "",
        }
        env.pop("DC_CONFIG_PATH", None)
        daemon = Path(sys.executable).parent / "dagster-daemon"
        log = (tmp_path / "daemon.log").open("w")
        proc = subprocess.Popen(
            [str(daemon), "run", "-m", "dc_pipeline.definitions"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline, ticks = time.monotonic() + WAIT_S, {}
            while time.monotonic() < deadline and proc.poll() is None:
                ticks = _ticks(instance)
                if all(ticks.get(name, 0) >= 1 for name in WATCHED):
                    break
                time.sleep(2)
            assert proc.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
            assert all(ticks.get(name, 0) >= 1 for name in WATCHED), (
                ticks,
                (tmp_path / "daemon.log").read_text()[-3000:],
            )
            time.sleep(5)  # a few more daemon iterations: nothing may pile up
            runs = instance.get_runs()
            beats = instance.get_daemon_heartbeats()
        finally:
            _stop(proc)
            log.close()
    projects = instance.get_dynamic_partitions("projects")
    assert sorted(projects) == sorted(["p1", "p2", "p3", "p101", "p102", "p103", "p104"])
    requested = Counter((r.job_name, r.tags.get("dagster/partition")) for r in runs)
    # At most one run per project plus the reference refresh and the post-deploy validation, none twice.
    assert len(runs) <= len(projects) + 2 and max(requested.values()) == 1, requested
    assert requested[("post_deploy_validation_job", None)] == 1
    assert {r.status for r in runs} <= {dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED}
    assert "SENSOR" in beats and "SCHEDULER" in beats
    # The health sensor's evaluations reached dc_ops.health_history in the source database.
    assert ops_env.query("SELECT count(*) FROM dc_ops.health_history")[0][0] >= 1
    instance.dispose()
