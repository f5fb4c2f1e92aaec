"""performance_monitor_sensor on a real instance holding real runs: its measurements, and one alert
per new threshold breach to a local webhook."""

import json
import time

import dagster as dg
import numpy as np
import psutil

from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.operations.sensors import performance_monitor_sensor
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource

SLEEPS = (0.1, 0.4, 0.7)


class NapConfig(dg.Config):
    seconds: float
    fail: bool = False


@dg.op
def nap(config: NapConfig) -> None:
    time.sleep(config.seconds)
    if config.fail:
        raise RuntimeError("nap failed on purpose")


@dg.job
def nap_job():
    nap()


def _record_runs(instance) -> None:
    for seconds in SLEEPS:
        nap_job.execute_in_process(instance=instance, run_config={"ops": {"nap": {"config": {"seconds": seconds}}}})
    failed = nap_job.execute_in_process(
        instance=instance, raise_on_error=False, run_config={"ops": {"nap": {"config": {"seconds": 0.0, "fail": True}}}}
    )
    assert not failed.success


def _expected_stats(instance) -> dict[str, tuple]:
    """(runs, failed, p50, p95) per job straight from the instance's run records."""
    records = instance.get_run_records(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE])
    )
    by_job: dict[str, list] = {}
    for r in records:
        by_job.setdefault(r.dagster_run.job_name, []).append((r.end_time - r.start_time, r.dagster_run.status))
    return {
        job: (
            len(rows),
            sum(s == dg.DagsterRunStatus.FAILURE for _, s in rows),
            float(np.percentile([d for d, _ in rows], 50)),
            float(np.percentile([d for d, _ in rows], 95)),
        )
        for job, rows in by_job.items()
    }


def test_measurements_and_one_alert_per_new_breach(ops_env, webhook, tmp_path):
    hook_url, received = webhook
    _record_runs(ops_env.instance)
    # Only memory can cross: CPU is capped at 100 %, the other limits are out of reach.
    quiet = dict(
        cpu_alert_percent=100.0, canary_alert_seconds=1e6, min_disk_free_fraction=0.0, job_p95_alert_seconds=1e6
    )

    def tick(cursor, **limits):
        resources = {
            "pipeline_db": PostgresResource(url=ops_env.url),
            "settings": SettingsResource(),
            "report_store": FolderResource(path=str(tmp_path / "reports")),
            "ops": OperationsResource(
                backup_dir=str(tmp_path / "backups"), alert_webhook_url=hook_url, **{**quiet, **limits}
            ),
        }
        context = dg.build_sensor_context(instance=ops_env.instance, resources=resources, cursor=cursor)
        result = performance_monitor_sensor(context)
        assert result.run_requests in (None, [])
        return result, result.asset_events[0].metadata

    first, meta = tick(None, memory_alert_percent=0.0)
    assert 0.0 <= meta["cpu_percent"].value <= 100.0
    assert abs(meta["memory_percent"].value - psutil.virtual_memory().percent) < 10.0
    assert 0.0 < meta["disk_free_fraction"].value <= 1.0
    assert meta["canary"].value == "ok" and 0.0 < meta["canary_seconds"].value < 60.0
    measured = {row["job_name"]: row for row in meta["job_durations"].value}
    expected = _expected_stats(ops_env.instance)
    assert set(measured) == set(expected) and {"nap_job", "reference_job", "scoring_job"} <= set(measured)
    for job, (runs, failed, p50, p95) in expected.items():
        row = measured[job]
        assert (row["n_runs"], row["n_failed"]) == (runs, failed)
        assert abs(row["p50_s"] - p50) < 1e-6 and abs(row["p95_s"] - p95) < 1e-6
    assert measured["nap_job"]["n_runs"] == 4 and measured["nap_job"]["n_failed"] == 1
    assert measured["nap_job"]["max_s"] >= max(SLEEPS)

    assert len(received) == 1
    alert = received[0]
    assert alert["source"] == "performance_monitor_sensor" and alert["details"]["breaches"] == ["memory"]
    assert alert["message"].startswith("high memory usage") and "> 0 %" in alert["message"]
    assert json.loads(first.cursor)["breaches"] == ["memory"]

    # Still above the limit: no second alert.
    second, _ = tick(first.cursor, memory_alert_percent=0.0)
    assert len(received) == 1

    # A new breach (every job's p95 above 0 s) alerts once more, naming only what is new.
    third, meta3 = tick(second.cursor, memory_alert_percent=0.0, job_p95_alert_seconds=0.0)
    assert len(received) == 2
    assert sorted(received[1]["details"]["breaches"]) == sorted(f"job:{j}" for j in expected)
    assert "slow job nap_job" in received[1]["message"] and "memory" not in received[1]["message"]
    assert meta3["new_alerts"].value == len(expected)

    # Back under every limit: nothing to alert, the cursor forgets the breaches.
    calm, _ = tick(third.cursor, memory_alert_percent=100.0)
    assert len(received) == 2 and json.loads(calm.cursor)["breaches"] == []
