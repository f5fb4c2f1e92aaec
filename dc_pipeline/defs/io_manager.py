"""Partition-aware Postgres IO manager (SPEC §0, DESIGN "Where data lives").

An asset's output is a DataFrame (one table named after the asset) or a dict of DataFrames (table name ->
frame) for assets that own several tables; `adapters/store.py` says which, and the asset carries it as
definition metadata (`dc/schema`, optional `dc/tables`). On output, in one transaction, the rows of the run's
partitions are deleted and the new rows COPYed in, each tagged with run_id and data_version: reruns replace,
never duplicate; a crash leaves the old rows. For `dc_scores` and `brand_recommendations` the same transaction
first appends what changed against the rows it replaces to their refresh history (defs/refresh_history.py).
An input whose metadata names `dc/columns` reads only those columns. A later step of the same run (the in-process
executor) gets the frame just written instead of reading it back (adapters/handoff.py).

Every table of a partition comes from one run: the first write of a run takes its partitions' locks
(adapters/partition_lock.py) and holds them until the run ends in this process, so a second run of the same
partition waits instead of interleaving its writes; a run already marked finished (its worker died, it was
terminated) writes nothing more.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import PrivateAttr

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.handoff import HandOff
from dc_pipeline.adapters.partition_lock import PartitionBusyError, PartitionLock
from dc_pipeline.adapters.store import REFRESH_HISTORY
from dc_pipeline.defs.partitions import pair_of, partition_filter
from dc_pipeline.defs.refresh_history import record_refresh
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.domain.data_version import combined_version, frame_data_version
from dc_pipeline.domain.partition_keys import project_id_of

# Input metadata: the columns of the upstream table an asset reads (all but the run columns when absent).
INPUT_COLUMNS = "dc/columns"


def _tables(context: dg.OutputContext | dg.InputContext) -> tuple[str, list[str] | None]:
    metadata = context.definition_metadata or {}
    tables = metadata.get("dc/tables")
    return metadata.get("dc/schema", "dc_core"), (list(tables) if tables else None)


def _written(asset: str, versions: dict[str, str]) -> str:
    history = REFRESH_HISTORY.get(asset)
    return versions.get(history.written, "") if history else ""


def _add_churn_metadata(context: dg.OutputContext, churn: dict) -> None:
    """`refresh_churn` on each partition's materialization: its own sentence (a run covers many partitions)."""
    for key in context.asset_partition_keys:
        item = pair_of(key) if "|" in str(key) else project_id_of(key)
        if item in churn:
            context.step_context.add_asset_metadata(
                {"refresh_churn": dg.MetadataValue.text(churn[item])}, asset_key=context.asset_key, partition_key=key
            )


def _readers_later_in_run(context: dg.OutputContext) -> int:
    """How many steps of this run's plan read the output being handled (0 outside a run, e.g. in a test)."""
    try:
        plan = context.step_context.execution_plan
    except (dg.DagsterInvariantViolationError, AttributeError):
        return 0
    handle = (context.step_key, context.name)
    return sum(
        any((h.step_key, h.output_name) == handle for h in step_input.get_step_output_handle_dependencies())
        for step in plan.get_steps_to_execute_in_topo_order()
        for step_input in step.step_inputs
    )


class PartitionedTableIOManager(dg.ConfigurableIOManager):
    db: dg.ResourceDependency[PostgresResource]
    # How long a run waits for another run of the same partition before it fails (the run monitor's limit).
    partition_wait_s: int = 7200
    _lock: PartitionLock | None = PrivateAttr(default=None)
    _handoff: HandOff = PrivateAttr(default_factory=HandOff)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._handoff.clear()
        if self._lock is not None:
            self._lock.release()

    def _hold_partitions(self, context: dg.OutputContext) -> None:
        """Wait until this run alone writes its partitions; refuse to write for a run already finished."""
        if self._lock is None:
            self._lock = PartitionLock(self.db.resolved_url(), context.run_id)
        try:
            self._lock.acquire(context.asset_partition_keys, self.partition_wait_s, context.log.info)
        except PartitionBusyError as exc:
            raise dg.Failure(description=str(exc)) from None
        run = context.step_context.instance.get_run_by_id(context.run_id)
        if run is not None and run.is_finished:
            raise dg.Failure(
                description=f"run {context.run_id} is already {run.status.value} (its worker died or it was "
                f"terminated): this step's output for {context.asset_key.to_user_string()} is not written, so "
                "the partition keeps the tables of one run. Re-execute the run."
            )

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        asset_name = context.asset_key.path[-1]
        schema, _ = _tables(context)
        frames: Mapping[str, pd.DataFrame] = obj if isinstance(obj, dict) else {asset_name: obj}
        where = partition_filter(context)
        if context.has_asset_partitions:
            self._hold_partitions(context)
        versions = {table: frame_data_version(frame) for table, frame in frames.items()}
        counts: dict[str, int] = {}
        with self.db.connection() as conn:
            # before the rewrite, in its transaction: the rows it replaces are the previous materialization
            refresh = record_refresh(
                conn, asset_name, dict(frames), where, context.run_id, _written(asset_name, versions)
            )
            readers = _readers_later_in_run(context)
            for table, frame in frames.items():
                qualified = f"{schema}.{table}"
                counts[table] = postgres.replace_rows(
                    conn, qualified, frame, where, {"run_id": context.run_id, "data_version": versions[table]}
                )
                # the table's types decide how the frame is handed over; not asked when nobody in the run reads it
                types = postgres.table_types(conn, qualified) if readers and counts[table] else {}
                stored = {c: t for c, t in types.items() if c not in postgres.RUN_COLUMNS}
                self._handoff.keep(qualified, where, frame, stored, readers if stored else 0)
        context.add_output_metadata(
            {
                **{f"rows/{t}": dg.MetadataValue.int(n) for t, n in counts.items()},
                **{f"table/{t}": dg.MetadataValue.text(f"{schema}.{t}") for t in frames},
                # per table, so a report's input_data_versions entry (`table/p<id>`) finds the run that wrote it
                **(
                    {f"data_version/{t}": dg.MetadataValue.text(v) for t, v in versions.items()}
                    if len(versions) > 1
                    else {}
                ),
                "data_version": dg.MetadataValue.text(
                    next(iter(versions.values())) if len(versions) == 1 else combined_version(*versions.values())
                ),
            }
        )
        if refresh is not None:
            _add_churn_metadata(context, refresh.churn)

    def load_input(self, context: dg.InputContext) -> Any:
        asset_name = context.asset_key.path[-1]
        schema, tables = _tables(context.upstream_output)
        where = partition_filter(context)
        # An input declaring `dc/columns` reads only those (dc_scores needs 5 of validated_values' 9 columns).
        columns = (context.definition_metadata or {}).get(INPUT_COLUMNS)
        frames = {t: self._handoff.take(f"{schema}.{t}", where, columns) for t in tables or [asset_name]}
        if any(frame is None for frame in frames.values()):
            with self.db.connection() as conn:
                for t, frame in frames.items():
                    if frame is None:
                        frames[t] = postgres.read_table(conn, f"{schema}.{t}", where, columns=columns)
        return frames if tables else frames[asset_name]
