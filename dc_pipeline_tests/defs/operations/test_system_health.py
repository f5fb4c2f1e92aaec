"""system_health_sensor and `dc-pipeline status` against a real server that is stopped and restarted."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from dc_pipeline import cli
from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres
from dc_pipeline.defs.operations.jobs import health_incident_job
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.operations.sensors import system_health_sensor
from dc_pipeline.defs.resources import FolderResource, PostgresResource


@pytest.fixture()
def own_server():
    """A second private cluster this test may stop and start."""
    root = Path(tempfile.mkdtemp(prefix="dc_ops_health_pg_"))
    os.chmod(root, 0o755)
    server = EmbeddedPostgres(root)
    admin = server.ensure_running()
    postgres.ensure_database(admin, "digi_cadence")
    url = postgres.database_url(admin, "digi_cadence")
    with postgres.connect(url) as conn:
        postgres.init_source_schema(conn)
        postgres.init_pipeline_schemas(conn)
        conn.commit()
    yield server, url
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _status(url, capsys):
    code = cli.main(["status", "--json", "--dsn", url, "--timeout", "2"])
    return code, json.loads(capsys.readouterr().out)


def test_unhealthy_when_database_stops_and_healthy_components_after_restart(
    own_server, instance, webhook, tmp_path, capsys, monkeypatch
):
    server, url = own_server
    hook_url, received = webhook
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("API_BASE_URLS", "http://127.0.0.1:9")
    resources = {
        "pipeline_db": PostgresResource(url=url),
        "report_store": FolderResource(path=str(tmp_path / "reports")),
        "ops": OperationsResource(
            backup_dir=str(tmp_path / "b"),
            logs_dir=str(tmp_path / "l"),
            alert_webhook_url=hook_url,
            api_base_urls="http://127.0.0.1:9",
            probe_timeout_s=2,
        ),
    }

    def tick(cursor):
        context = dg.build_sensor_context(instance=instance, resources=resources, cursor=cursor)
        return system_health_sensor(context)

    first = tick(None)
    body = first.asset_events[0].metadata
    # Up but not everything: the API is down and nothing has materialized yet -> degraded, not unhealthy.
    assert body["status"].value == "degraded" and body["source_db/state"].value == "ok"
    assert body["api/state"].value == "down" and body["freshness/state"].value == "missing"
    assert not first.run_requests
    assert json.loads(first.cursor)["status"] == "degraded"
    assert _status(url, capsys)[0] == 0

    server.stop()
    try:
        down = tick(first.cursor)
        meta = down.asset_events[0].metadata
        assert meta["status"].value == "unhealthy" and meta["source_db/state"].value == "down"
        assert len(down.run_requests) == 1 and down.run_requests[0].job_name == "health_incident_job"
        code, status = _status(url, capsys)
        assert code == 2 and status["status"] == "unhealthy"
        assert status["components"]["source_db"]["state"] == "down"
        # Still down: no second incident.
        assert tick(down.cursor).run_requests == []
    finally:
        server.ensure_running()

    up = tick(down.cursor)
    assert up.asset_events[0].metadata["status"].value == "degraded"
    code, status = _status(url, capsys)
    assert code == 0 and status["components"]["source_db"]["state"] == "ok"
    # Alerts: the first degraded evaluation, the unhealthy transition (only once), the recovery.
    titles = [r["title"] for r in received]
    assert titles == ["system degraded", "system unhealthy", "system degraded"]
    assert "source_db (critical) down" in received[1]["message"]

    # The incident run writes dc_ops.incidents once the database is back.
    run_config = down.run_requests[0].run_config
    result = health_incident_job.execute_in_process(
        run_config=run_config, instance=instance, resources={"pipeline_db": PostgresResource(url=url)}
    )
    assert result.success
    with postgres.connect(url) as conn:
        rows = conn.execute("SELECT status, reasons FROM dc_ops.incidents").fetchall()
        history = conn.execute("SELECT status FROM dc_ops.health_history ORDER BY checked_at").fetchall()
    assert rows[0][0] == "unhealthy" and any("source_db" in r for r in rows[0][1])
    # The down evaluations could not be stored (their database was down); the up ones were.
    assert [h[0] for h in history] == ["degraded", "degraded"]
