"""The instance storage keeps its connections: storage calls reuse one, a forked child opens its own."""

import os

from sqlalchemy import event

from dc_pipeline.defs.operations.instance_storage import PooledPostgresStorage


def _connects(storage: PooledPostgresStorage) -> list:
    opened = []
    for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
        event.listen(part._engine, "connect", lambda *_: opened.append(1))
    return opened


def _dispose(storage: PooledPostgresStorage) -> None:
    for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
        part.dispose()


def test_storage_calls_reuse_one_connection_per_storage(fresh_db):
    storage = PooledPostgresStorage(fresh_db)
    opened = _connects(storage)
    try:
        for index in range(20):
            storage.event_log_storage.add_dynamic_partitions("projects", [f"p{index}"])
            assert storage.event_log_storage.has_dynamic_partition("projects", f"p{index}")
            storage.run_storage.get_runs()
        assert len(opened) <= 2  # NullPool (dagster-postgres' default) opened one for each of these 60 calls
        assert len(storage.event_log_storage.get_dynamic_partitions("projects")) == 20
    finally:
        _dispose(storage)


def test_a_forked_child_uses_its_own_connections(fresh_db):
    storage = PooledPostgresStorage(fresh_db)
    try:
        storage.event_log_storage.add_dynamic_partitions("projects", ["parent"])
        child = os.fork()
        if child == 0:  # the child: its own connection, the parent's socket untouched
            try:
                storage.event_log_storage.add_dynamic_partitions("projects", ["child"])
                os._exit(0 if storage.event_log_storage.has_dynamic_partition("projects", "child") else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # Had the child used the parent's pooled connection, the parent's next call would read the child's replies.
        assert sorted(storage.event_log_storage.get_dynamic_partitions("projects")) == ["child", "parent"]
    finally:
        _dispose(storage)


def test_the_instance_yaml_names_the_pooled_storage(tmp_path, fresh_db, monkeypatch):
    from dc_pipeline import runner

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_PG_URL", fresh_db)  # restored afterwards; prepare_instance sets it
    instance = runner.prepare_instance(tmp_path, fresh_db)
    try:
        assert instance.get_ref().storage_data.class_name == "PooledPostgresStorage"  # run workers build the same
        assert type(instance.event_log_storage._engine.pool).__name__ == "QueuePool"
    finally:
        instance.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_the_next_call(fresh_db):
    """A restarted database (here: the storage's backend terminated) does not fail the next storage call once the
    connection sat idle for STORAGE_IDLE_PING_S."""
    import time

    from dc_pipeline.adapters import postgres
    from dc_pipeline.defs.operations.instance_storage import STORAGE_IDLE_PING_S

    storage = PooledPostgresStorage(fresh_db)
    try:
        storage.event_log_storage.add_dynamic_partitions("projects", ["before"])
        with postgres.connect(fresh_db, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        assert killed  # the storage's pooled connection was there to kill
        time.sleep(STORAGE_IDLE_PING_S + 0.2)
        storage.event_log_storage.add_dynamic_partitions("projects", ["after"])
        assert sorted(storage.event_log_storage.get_dynamic_partitions("projects")) == ["after", "before"]
    finally:
        _dispose(storage)


def test_materializations_reuse_the_pooled_connections(tmp_path, fresh_db, monkeypatch):
    """A materialization's store_event nests a second checkout (the asset index) inside the first: with one pooled
    connection that second one was a fresh connect per materialization (520 at the 1 M-row bench)."""
    import dagster as dg

    from dc_pipeline import runner

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_PG_URL", fresh_db)
    instance = runner.prepare_instance(tmp_path, fresh_db)
    try:
        opened = []
        event.listen(instance.event_log_storage._engine, "connect", lambda *_: opened.append(1))
        for index in range(10):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    "pooled_probe", partition="p1", metadata={"i": index}, tags={"dagster/data_version": str(index)}
                )
            )
        assert len(opened) <= 2, f"{len(opened)} connects for 10 materializations"
        assert instance.fetch_materializations(dg.AssetKey("pooled_probe"), limit=20).records[0] is not None
    finally:
        instance.dispose()


def test_schema_checks_ask_the_catalog_until_found_then_remember(fresh_db):
    """A table or asset-key column found once is not asked again; one not found is asked each time, and found
    once it exists."""
    storage = PooledPostgresStorage(fresh_db)
    log = storage.event_log_storage
    queries = []
    event.listen(log._engine, "before_cursor_execute", lambda *a, **k: queries.append(1))
    try:
        assert log.has_table("dynamic_partitions")
        assert log.has_asset_key_col("cached_status_data")
        asked = len(queries)
        assert asked >= 2
        for _ in range(5):
            assert log.has_table("dynamic_partitions")
            assert log.has_asset_key_col("cached_status_data")
            assert log.can_read_asset_status_cache()
            log._check_partitions_table()
        assert len(queries) == asked

        assert not log.has_table("dc_later_table")
        assert not log.has_table("dc_later_table")
        assert len(queries) == asked + 2  # a missing table is asked again
        with log._engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE dc_later_table (id int)")
        assert log.has_table("dc_later_table")
        assert not log.has_asset_key_col("no_such_column")
        # and the storage still works
        log.add_dynamic_partitions("projects", ["p1"])
        assert log.get_dynamic_partitions("projects") == ["p1"]
    finally:
        _dispose(storage)
