"""code_version_sensor -> post_deploy_validation_job (SPEC §11, update_system.py) on a real instance
and the demo data."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from dc_pipeline.adapters import backup_run, ops_log, postgres
from dc_pipeline.definitions import build_definitions
from dc_pipeline.defs.operations.deploy import POST_DEPLOY_JOB, code_version_sensor
from dc_pipeline.version import code_version


def _tick(env, cursor):
    context = dg.build_sensor_context(
        instance=env.instance, cursor=cursor, resources={"pipeline_db": env.defs.resources["pipeline_db"]}
    )
    return code_version_sensor(context)


def test_same_version_requests_nothing_and_a_new_one_requests_one_run(ops_env):
    version = code_version()
    same = _tick(ops_env, version)
    assert not same.run_requests and same.skip_reason is not None and version in same.skip_reason.skip_message

    new = _tick(ops_env, "dc_pipeline 0.0.1+gdeadbee")
    assert len(new.run_requests) == 1 and new.cursor == version
    request = new.run_requests[0]
    assert request.run_key == f"deploy:{version}"
    config = request.run_config["ops"]["ensure_recent_backup"]["config"]
    assert config == {"code_version": version, "previous_version": "dc_pipeline 0.0.1+gdeadbee"}
    # The next tick, with the cursor the sensor stored, is quiet again.
    assert not _tick(ops_env, new.cursor).run_requests
    # A first deployment (no version recorded yet) is validated too.
    assert len(_tick(ops_env, None).run_requests) == 1


def test_a_new_instance_takes_the_version_a_passing_canary_recorded(ops_env):
    """Without a cursor (a daemon started after `dc-pipeline demo`), a version whose canary passed in a validating
    job is not validated again; a failed canary or another job's canary does not count."""
    version = code_version()
    logged = []
    with postgres.connect(ops_env.url) as conn:
        for job, status in (("weekly_maintenance_job", "ok"), ("dc-pipeline demo", "fail")):
            ops_log.log_task(conn, job, "canary", {"status": status, "code_version": version}, f"test-{job}")
            logged.append(f"test-{job}")
        conn.commit()
    try:
        assert len(_tick(ops_env, None).run_requests) == 1
        with postgres.connect(ops_env.url) as conn:
            ops_log.log_task(conn, "dc-pipeline demo", "canary", {"status": "ok", "code_version": version}, "test-ok")
            logged.append("test-ok")
            conn.commit()
        quiet = _tick(ops_env, None)
        assert not quiet.run_requests and quiet.cursor == version and version in quiet.skip_reason.skip_message
    finally:
        with postgres.connect(ops_env.url) as conn:
            conn.execute("DELETE FROM dc_ops.maintenance_log WHERE run_id = ANY(%s)", (logged,))
            conn.commit()


def test_post_deploy_job_takes_a_backup_when_none_is_recent_then_runs_the_canary(ops_env, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    defs = build_definitions()  # binds BACKUP_DIR as set above
    with postgres.connect(ops_env.url) as conn:  # a stale verified backup must not count
        ops_log.ensure(conn, "dc_ops.backup_log")
        conn.execute(
            "INSERT INTO dc_ops.backup_log (created_at, dump_file, sha256, verified) VALUES (%s, %s, %s, true)",
            (datetime.now(UTC) - timedelta(hours=30), "old.dump", "0" * 64),
        )
    request = _tick(ops_env, "dc_pipeline 0.0.1").run_requests[0]
    result = defs.resolve_job_def(POST_DEPLOY_JOB).execute_in_process(
        run_config=request.run_config, instance=ops_env.instance, tags=request.tags, raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    rows = ops_env.query(
        "SELECT task, result FROM dc_ops.maintenance_log WHERE run_id = %s ORDER BY logged_at", (result.run_id,)
    )
    log = dict(rows)
    assert [t for t, _ in rows] == ["ensure_backup", "load_definitions", "canary"]
    assert log["ensure_backup"]["action"] == "created" and log["ensure_backup"]["verified"] is True
    assert (tmp_path / "backups" / log["ensure_backup"]["dump_file"]).exists()
    assert log["load_definitions"]["jobs"] > 5 and log["load_definitions"]["sensors"] >= 5
    assert log["canary"]["status"] == "ok" and log["canary"]["brands_checked"] == 3
    assert log["canary"]["code_version"] == code_version()

    # The backup just taken is recent: the next validation reuses it instead of dumping again.
    with postgres.connect(ops_env.url) as conn:
        last, dump_file = ops_log.last_verified_backup(conn)
    assert dump_file == log["ensure_backup"]["dump_file"]
    assert backup_run.backup_is_recent(last, datetime.now(UTC), 24.0)
    assert not backup_run.backup_is_recent(last, datetime.now(UTC) + timedelta(hours=25), 24.0)
