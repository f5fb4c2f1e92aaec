"""run_failure_alert_sensor, the schedules, the daily maintenance job and db_backup on a real
instance and a real Postgres."""

import os
import time
from datetime import UTC, datetime, timedelta

import dagster as dg

from dc_pipeline.adapters import postgres
from dc_pipeline.defs.operations import assets, jobs, schedules
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.operations.sensors import run_failure_alert_sensor
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource


@dg.op
def explode():
    raise RuntimeError("boom while connecting to postgresql://dc:hunter22@db/x")


@dg.job
def failing_job():
    explode()


def test_failed_run_sends_exactly_one_alert(instance, webhook):
    url, received = webhook
    defs = dg.Definitions(
        jobs=[failing_job],
        sensors=[run_failure_alert_sensor],
        resources={"ops": OperationsResource(alert_webhook_url=url)},
    )
    sensor = defs.get_sensor_def("run_failure_alert_sensor")

    def tick(cursor):
        context = dg.build_sensor_context(
            instance=instance,
            cursor=cursor,
            definitions=defs,
            resources={"ops": OperationsResource(alert_webhook_url=url)},
        )
        return sensor.evaluate_tick(context)

    start = tick(None)  # the first tick only places the cursor
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    second = tick(start.cursor)
    third = tick(second.cursor)
    assert third.cursor is not None
    assert len(received) == 1
    alert = received[0]
    assert alert["title"] == "run failed: failing_job" and alert["details"]["run_id"] == result.run_id
    assert alert["details"]["failed_steps"] == ["explode"] and "hunter22" not in str(alert)


def test_schedules_request_their_jobs(instance):
    expected = {
        "daily_maintenance": ("daily_maintenance_job", "0 2 * * *"),
        "weekly_maintenance": ("weekly_maintenance_job", "0 3 * * 0"),
        "nightly_backup": ("backup_job", "0 1 * * *"),
    }
    for schedule in (schedules.daily_maintenance, schedules.weekly_maintenance, schedules.nightly_backup):
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2025, 3, 2, 3, tzinfo=UTC)
        )
        data = schedule.evaluate_tick(context)
        assert len(data.run_requests) == 1
        assert (schedule.job_name, schedule.cron_schedule) == expected[schedule.name]
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def _touch(path, age_days, now):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")
    stamp = (now - timedelta(days=age_days)).timestamp()
    os.utime(path, (stamp, stamp))


def test_daily_maintenance_prunes_only_past_retention(instance, fresh_db, tmp_path):
    now = datetime.now(UTC)
    logs, reports = tmp_path / "logs", tmp_path / "reports"
    _touch(logs / "old.log", 31, now)
    _touch(logs / "nested" / "old2.log", 45, now)
    _touch(logs / "recent.log", 29, now)
    folder = reports / "p1" / "dc_score_performance_analysis"
    old_stamp = (now - timedelta(days=100)).strftime("%Y%m%dT%H%M%S%fZ")
    older_stamp = (now - timedelta(days=120)).strftime("%Y%m%dT%H%M%S%fZ")
    new_stamp = (now - timedelta(days=2)).strftime("%Y%m%dT%H%M%S%fZ")
    for name in (f"{older_stamp}.json", f"{old_stamp}.json", f"{new_stamp}.json", "latest.json", f"{old_stamp}.html"):
        _touch(folder / name, 0, now)
    lone = reports / "p2" / "dc_score_performance_analysis" / f"{older_stamp}.json"  # only copy: kept
    _touch(lone, 0, now)
    with postgres.connect(fresh_db) as conn:
        postgres.init_source_schema(conn)
        postgres.init_pipeline_schemas(conn)
        conn.execute("CREATE TABLE dc_staging.api_cache (key text, body bytea, fetched_at double precision)")
        conn.execute(
            "INSERT INTO dc_staging.api_cache VALUES ('old', '', %s), ('new', '', %s)",
            (time.time() - 7200, time.time() - 60),
        )
        conn.execute(
            "CREATE TABLE dc_dq.dq_scores (project_id bigint, scope text, brand_id bigint, score float8, band text)"
        )
        conn.execute(
            "INSERT INTO dc_dq.dq_scores VALUES (1, 'project', NULL, 92.5, 'excellent'), "
            "(104, 'project', NULL, 55.0, 'poor'), (104, 'brand', 11, 40.0, 'poor'), (104, 'brand', 12, 80.0, 'good')"
        )
        conn.commit()
    resources = {
        "pipeline_db": PostgresResource(url=fresh_db),
        "settings": SettingsResource(),
        "report_store": FolderResource(path=str(reports)),
        "ops": OperationsResource(logs_dir=str(logs), cache_timeout_s=3600),
    }
    result = jobs.daily_maintenance_job.execute_in_process(instance=instance, resources=resources)
    assert result.success
    remaining_logs = sorted(p.name for p in logs.rglob("*") if p.is_file())
    assert remaining_logs == ["recent.log"]
    remaining = sorted(p.name for p in folder.iterdir())
    assert remaining == sorted([f"{new_stamp}.json", "latest.json", f"{old_stamp}.html"])
    assert lone.exists()
    with postgres.connect(fresh_db) as conn:
        assert [r[0] for r in conn.execute("SELECT key FROM dc_staging.api_cache")] == ["new"]
        summary = conn.execute("SELECT project_id, band, brands_poor FROM dc_ops.dq_summary ORDER BY 1").fetchall()
        tasks = {r[0] for r in conn.execute("SELECT task FROM dc_ops.maintenance_log")}
        analyzed = conn.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'normalisedvalue' AND last_analyze IS NOT NULL"
        ).fetchone()[0]
    assert summary == [(1, "excellent", 0), (104, "poor", 1)]
    assert tasks == {"dq_summary", "analyze", "api_cache", "logs", "reports"} and analyzed == 1


def test_db_backup_asset_restore_check_and_log(instance, fresh_db, tmp_path):
    with postgres.connect(fresh_db) as conn:
        postgres.init_source_schema(conn)
        postgres.init_pipeline_schemas(conn)
        conn.execute("INSERT INTO public.categories (category_id, category_name) VALUES (1, 'Consumer Electronics')")
        conn.commit()
    resources = {
        "pipeline_db": PostgresResource(url=fresh_db),
        "settings": SettingsResource(),
        "ops": OperationsResource(backup_dir=str(tmp_path / "backups"), config_dir=str(tmp_path)),
    }
    result = dg.materialize([assets.db_backup], instance=instance, resources=resources)
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 1 and checks[0].passed and checks[0].check_name == "backup_restorable"
    dumps = list((tmp_path / "backups").glob("*.dump"))
    assert len(dumps) == 1
    with postgres.connect(fresh_db) as conn:
        verified, tables = conn.execute("SELECT verified, tables FROM dc_ops.backup_log").fetchone()
        scratch = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (assets.RESTORE_CHECK_DATABASE,)
        ).fetchone()[0]
    assert verified and tables >= 7 and scratch == 0
