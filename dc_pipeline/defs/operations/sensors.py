"""Operations sensors (SPEC §11): system health every 5 min, performance every 10 min, and an alert
for every failed run. None of them floods the run queue: only an unhealthy transition requests a run
(one per transition, with a run key)."""

import json
from datetime import UTC, datetime

import dagster as dg

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.alerts import Alert, redact, send_alert
from dc_pipeline.adapters.health_probes import system_resources
from dc_pipeline.defs.operations.canary import run_canary
from dc_pipeline.defs.operations.jobs import health_incident_job
from dc_pipeline.defs.operations.performance import duration_summary
from dc_pipeline.defs.operations.resources import OperationsResource
from dc_pipeline.defs.operations.status import collect_health, record_health
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.operations import health as h
from dc_pipeline.domain.operations.performance import performance_breaches


def health_metadata(summary: h.HealthSummary) -> dict:
    meta: dict = {
        "status": summary.status,
        "reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in summary.reasons) or "all components ok"),
        "checked_at": summary.checked_at,
    }
    for c in summary.components:
        meta[f"{c.name}/state"] = c.state
        meta[f"{c.name}/detail"] = c.detail
    meta["components"] = dg.MetadataValue.json(summary.to_dict()["components"])
    return meta


@dg.sensor(
    jobs=[health_incident_job],
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Probes every component (replaces monitor_system.py) and records system_health; alerts and opens "
    "an incident on a transition to unhealthy, alerts again on recovery.",
)
def system_health_sensor(
    context: dg.SensorEvaluationContext,
    pipeline_db: PostgresResource,
    report_store: FolderResource,
    ops: OperationsResource,
) -> dg.SensorResult:
    previous = json.loads(context.cursor)["status"] if context.cursor else None
    url = pipeline_db.resolved_url()
    summary = collect_health(
        url,
        context.instance,
        report_store.root(),
        ops.backups(),
        ops.logs(),
        ops.base_urls(),
        freshness_hours=ops.freshness_hours,
        probe_timeout_s=ops.probe_timeout_s,
    )
    record_health(url, summary)
    requests = []
    if summary.status != previous and previous is not None or (previous is None and summary.status != h.HEALTHY):
        severity = {"unhealthy": "error", "degraded": "warning"}.get(summary.status, "info")
        send_alert(
            Alert(
                f"system {summary.status}",
                severity,
                "; ".join(summary.reasons) or f"all components ok (was {previous})",
                "system_health_sensor",
                {"previous": previous, "checked_at": summary.checked_at},
            ),
            webhook_url=ops.alert_webhook_url or None,
        )
    if h.is_transition_to_unhealthy(previous, summary.status):
        requests.append(
            dg.RunRequest(
                run_key=f"incident:{summary.checked_at}",
                job_name=health_incident_job.name,
                run_config={
                    "ops": {
                        "record_incident": {
                            "config": {
                                "opened_at": summary.checked_at,
                                "status": summary.status,
                                "reasons": [redact(r) for r in summary.reasons],
                            }
                        }
                    }
                },
            )
        )
    context.log.info(f"system {summary.status}: " + ("; ".join(summary.reasons) or "all components ok"))
    return dg.SensorResult(
        run_requests=requests,
        asset_events=[dg.AssetMaterialization(asset_key="system_health", metadata=health_metadata(summary))],
        cursor=json.dumps({"status": summary.status, "checked_at": summary.checked_at}),
    )


@dg.sensor(
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="CPU, memory and disk of the code server, a timed canary report on the TechCorp fixture and p50/p95 "
    "run and step durations over 24 h; one alert per tick for thresholds newly crossed (the cursor holds the "
    "breaches already alerted). Requests no runs.",
)
def performance_monitor_sensor(
    context: dg.SensorEvaluationContext,
    pipeline_db: PostgresResource,
    report_store: FolderResource,
    ops: OperationsResource,
    settings: SettingsResource,
) -> dg.SensorResult:
    now = datetime.now(UTC)
    already = set(json.loads(context.cursor)["breaches"]) if context.cursor else set()
    sample = system_resources([report_store.root(), ops.backups()])
    try:
        with pipeline_db.connection() as conn:
            canary = run_canary(conn, settings.load(), depth="basic")
    except postgres.DatabaseError as exc:
        canary = None
        context.log.warning(f"canary skipped: {exc}")
    sample["canary_seconds"] = canary.seconds if canary else None
    jobs, steps = duration_summary(context.instance, now)
    breaches = performance_breaches(sample, jobs, ops.thresholds())
    if canary and canary.status == "failed":
        breaches["canary_failed"] = "canary report failed its checks: " + "; ".join(canary.problems[:5])
    new = {k: v for k, v in breaches.items() if k not in already}
    if new:  # one alert per tick, only for what was not already alerted while it persists
        send_alert(
            Alert(
                "performance threshold crossed",
                "warning",
                "; ".join(new.values()),
                "performance_monitor_sensor",
                {**sample, "breaches": sorted(new)},
            ),
            webhook_url=ops.alert_webhook_url or None,
        )
    metadata = {
        "kind": "performance",
        **{k: v for k, v in sample.items() if v is not None},
        "canary": canary.status if canary else "database unreachable",
        "alerts": dg.MetadataValue.md("\n".join(f"- {a}" for a in breaches.values()) or "none"),
        "new_alerts": len(new),
        "job_durations": dg.MetadataValue.json(json.loads(jobs.to_json(orient="records"))),
        "job_durations_24h": dg.MetadataValue.md(jobs.round(2).to_markdown(index=False) if len(jobs) else "no runs"),
        "slowest_steps_24h": dg.MetadataValue.md(
            steps.head(10).round(2).to_markdown(index=False) if len(steps) else "no steps"
        ),
    }
    context.log.info(f"performance: {len(breaches)} threshold(s) crossed, {len(new)} new")
    return dg.SensorResult(
        asset_events=[dg.AssetObservation(asset_key="system_health", metadata=metadata)],
        cursor=json.dumps({"breaches": sorted(breaches), "checked_at": now.isoformat()}),
    )


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=True,
    description="Sends one alert per failed run to the log and ALERT_WEBHOOK_URL.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, ops: OperationsResource) -> None:
    run = context.dagster_run
    message = context.failure_event.message or "run failed"
    steps = [e.step_key for e in context.get_step_failure_events() if e.step_key]
    send_alert(
        Alert(
            f"run failed: {run.job_name}",
            "error",
            redact(message),
            "run_failure_alert_sensor",
            {
                "run_id": run.run_id,
                "job_name": run.job_name,
                "failed_steps": steps,
                "partition": run.tags.get("dagster/partition"),
            },
        ),
        webhook_url=ops.alert_webhook_url or None,
    )
