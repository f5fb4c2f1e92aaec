"""source_change_sensor (SPEC §11): new partitions and runs for new or changed projects, and an observation of
each source table (row count, latest update) whenever it changed."""

import hashlib
import json

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from dc_pipeline.adapters import source_reader
from dc_pipeline.defs.jobs import ingest_job, reference_job
from dc_pipeline.defs.partitions import brands_partitions, projects_partitions
from dc_pipeline.defs.plan_gate import plan_in_progress
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.defs.sources.assets import source_key
from dc_pipeline.domain.change_detection import (
    SOURCE_MARKER,
    changed_projects,
    changed_tables,
    reference_changed,
    table_totals,
)
from dc_pipeline.domain.partition_keys import brand_key, consecutive_slices, project_id_of, project_key


@dg.sensor(
    jobs=[ingest_job, reference_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches max(updated_at) and row counts of the source tables; adds new project/brand "
    "partitions, requests ingest runs for changed projects and records each changed table's row count as an "
    "observation of its external asset.",
)
def source_change_sensor(context: dg.SensorEvaluationContext, source_db: PostgresResource) -> dg.SensorResult:
    if waiting := plan_in_progress():
        return dg.SensorResult(skip_reason=dg.SkipReason(waiting))
    # Without a cursor (first tick, or a new instance daemon) the sensor starts from what the last
    # materializations saw, so the runs `dc-pipeline demo` or a backfill just made are not made again.
    previous = json.loads(context.cursor) if context.cursor else markers_left_by_materializations(context.instance)
    with source_db.connection() as conn:
        markers = source_reader.change_markers(conn)
        project_ids, brand_ids = source_reader.project_and_brand_ids(conn)

    known_projects = set(context.instance.get_dynamic_partitions(projects_partitions.name))
    known_brands = set(context.instance.get_dynamic_partitions(brands_partitions.name))
    new_projects = [project_key(p) for p in project_ids if project_key(p) not in known_projects]
    new_brands = [brand_key(b) for b in brand_ids if brand_key(b) not in known_brands]

    requests = []
    if reference_changed(previous, markers) or new_projects or new_brands:
        requests.append(dg.RunRequest(job_name=reference_job.name, run_key=f"reference:{_stamp(markers)}"))
    # Changed projects that follow each other in partition order share one run (a range, as a backfill with the
    # assets' BackfillPolicy does): a first tick over hundreds of projects queues a handful of runs, not hundreds.
    changed = [project_key(p) for p in changed_projects(previous, markers, project_ids)]
    order = list(context.instance.get_dynamic_partitions(projects_partitions.name)) + new_projects
    for keys in consecutive_slices(changed, order):
        for chunk in (keys[i : i + MAX_PROJECTS_PER_RUN] for i in range(0, len(keys), MAX_PROJECTS_PER_RUN)):
            stamp = _stamp(markers, [project_id_of(k) for k in chunk])
            if len(chunk) == 1:
                requests.append(
                    dg.RunRequest(job_name=ingest_job.name, partition_key=chunk[0], run_key=f"{chunk[0]}:{stamp}")
                )
                continue
            requests.append(
                dg.RunRequest(
                    job_name=ingest_job.name,
                    run_key=f"{chunk[0]}..{chunk[-1]}:{stamp}",
                    tags={ASSET_PARTITION_RANGE_START_TAG: chunk[0], ASSET_PARTITION_RANGE_END_TAG: chunk[-1]},
                )
            )
    partition_requests = []
    if new_projects:
        partition_requests.append(projects_partitions.build_add_request(new_projects))
    if new_brands:
        partition_requests.append(brands_partitions.build_add_request(new_brands))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partition_requests,
        # Every table on the sensor's first tick, then the ones that changed.
        asset_events=_observations(previous if context.cursor else {}, markers),
        cursor=json.dumps(markers, sort_keys=True),
    )


MAX_PROJECTS_PER_RUN = 50  # as the project assets' BackfillPolicy.multi_run

# The pulls whose materializations record the markers of their table (defs/sources/assets.py).
PULLS = {"src_normalised_values": "normalisedvalue", "src_business_outcomes": "business_outcomes",
         "src_metrics": "metrics"}  # fmt: skip
UNKNOWN = "unknown: materialized without a source marker"


def markers_left_by_materializations(instance: dg.DagsterInstance) -> dict:
    """The change markers as the latest materializations saw them: per project from the latest `src_*`
    materialization of its partition, memberships and reference tables from the latest `reference_snapshot`.
    A project never pulled has no markers (so any row it has counts as a change); a materialization without
    a marker counts as changed."""
    previous: dict[str, dict] = {}
    reference = instance.get_latest_materialization_event(dg.AssetKey("reference_snapshot"))
    if reference is not None and reference.asset_materialization is not None:
        recorded = reference.asset_materialization.metadata.get(SOURCE_MARKER)
        previous.update(recorded.value if recorded is not None else {})
    for asset, table in PULLS.items():
        key = dg.AssetKey(asset)
        latest = instance.get_latest_storage_id_by_partition(key, dg.DagsterEventType.ASSET_MATERIALIZATION)
        if not latest:
            continue
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, storage_ids=list(latest.values())), limit=len(latest)
        ).records
        for record in records:
            recorded = record.asset_materialization.metadata.get(SOURCE_MARKER)
            marker = recorded.value.get(table) if recorded is not None else UNKNOWN
            if marker is not None:
                previous.setdefault(table, {})[str(project_id_of(record.partition_key))] = marker
    return previous


def _observations(previous: dict, markers: dict) -> list[dg.AssetObservation]:
    totals = table_totals(markers)
    return [
        dg.AssetObservation(
            asset_key=source_key(table),
            metadata={
                "dagster/row_count": dg.MetadataValue.int(totals[table][0]),
                "latest_updated_at": totals[table][1] or "no rows",
            },
        )
        for table in changed_tables(previous, markers)
    ]


def _stamp(markers: dict, project_ids: list[int] | None = None) -> str:
    scope = markers if project_ids is None else {t: [m.get(str(p)) for p in project_ids] for t, m in markers.items()}
    return hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()[:16]
