"""Backup and restore against the real test server: the restored copy matches table by table."""

import json
from datetime import UTC, datetime

import pytest

from dc_pipeline.adapters import backup, postgres
from dc_pipeline.cli import load_demo


@pytest.fixture()
def demo_db(fresh_db):
    load_demo(fresh_db, "small", 42)
    with postgres.connect(fresh_db) as conn:
        conn.execute("CREATE TABLE dc_core.scores_probe (id int, at timestamptz, payload jsonb, x double precision)")
        conn.execute(
            "INSERT INTO dc_core.scores_probe VALUES (1, '2024-01-01 10:00+05', '{\"a\": [1, 2]}', 0.1), "
            "(2, NULL, NULL, 1e-300)"
        )
        conn.commit()
    return fresh_db


def test_dump_restore_has_same_counts_and_checksums(demo_db, tmp_path, pg_server):
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "system_config.json").write_text("{}")
    result = backup.dump_database(demo_db, tmp_path / "backups", config_dir, now=datetime(2025, 1, 2, 1, tzinfo=UTC))
    assert result.dump_path.name.endswith("_20250102T010000Z.dump") and result.config_archive.exists()
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["sha256"] == result.sha256 and len(result.sha256) == 64
    by_table = result.fingerprints.set_index("table_name")
    assert by_table.loc["public.normalisedvalue", "rows"] > 1000
    assert by_table.loc["dc_core.scores_probe", "rows"] == 2

    name = "restored_" + demo_db.rsplit("/", 1)[1]
    try:
        backup.restore_database(result.dump_path, pg_server, name)
        restored = backup.database_fingerprints(postgres.database_url(pg_server, name))
        original = backup.database_fingerprints(demo_db)
        assert restored.equals(original)
        assert backup.compare_fingerprints(result.fingerprints, restored) == []
        # Restoring over an existing database is refused.
        with pytest.raises(backup.BackupError, match="already exists"):
            backup.restore_database(result.dump_path, pg_server, name)
    finally:
        backup.drop_database(pg_server, name)


def test_verify_restore_detects_a_tampered_manifest(demo_db, tmp_path, pg_server):
    result = backup.dump_database(demo_db, tmp_path)
    check = backup.verify_restore(result.dump_path, pg_server, "restore_check_ok")
    assert check.ok and check.tables == len(result.fingerprints)
    manifest = json.loads(result.manifest_path.read_text())
    for entry in manifest["tables"]:
        if entry["table_name"] == "public.brands":
            entry["rows"] += 1
    result.manifest_path.write_text(json.dumps(manifest))
    bad = backup.verify_restore(result.dump_path, pg_server, "restore_check_bad")
    assert not bad.ok and any(p.startswith("public.brands:") and "rows restored" in p for p in bad.problems)
    with postgres.connect(postgres.database_url(pg_server, "postgres")) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'restore_check%'").fetchone()[0] == 0


def test_damaged_dump_is_refused(demo_db, tmp_path, pg_server):
    result = backup.dump_database(demo_db, tmp_path)
    with open(result.dump_path, "ab") as handle:
        handle.write(b"junk")
    with pytest.raises(backup.BackupError, match="damaged"):
        backup.restore_database(result.dump_path, pg_server, "never_created")


def test_compare_fingerprints_names_each_difference():
    import pandas as pd

    expected = pd.DataFrame({"table_name": ["a", "b", "c"], "rows": [1, 2, 3], "checksum": ["x", "y", "z"]})
    actual = pd.DataFrame({"table_name": ["a", "b", "d"], "rows": [1, 2, 0], "checksum": ["x", "q", "w"]})
    problems = backup.compare_fingerprints(expected, actual)
    assert problems == [
        "b: checksum differs with equal row counts (2)",
        "c: missing after restore",
        "d: not in the backup's manifest",
    ]


def _databases(pg_server: str, pattern: str) -> list[str]:
    with postgres.connect(postgres.database_url(pg_server, "postgres")) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))]


def test_a_corrupt_dump_without_manifest_leaves_no_database_and_a_rerun_works(demo_db, tmp_path, pg_server):
    good = backup.dump_database(demo_db, tmp_path / "good")
    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(good.dump_path.read_bytes()[: good.size_bytes // 2])  # truncated, no manifest
    name = "restored_" + demo_db.rsplit("/", 1)[1]
    for _ in range(2):  # the second attempt must fail the same way, not with "already exists"
        with pytest.raises(backup.BackupError, match="pg_restore failed"):
            backup.restore_database(corrupt, pg_server, name)
        assert _databases(pg_server, f"{name}%") == []
    try:
        backup.restore_database(good.dump_path, pg_server, name)  # the same name then works
        assert _databases(pg_server, f"{name}%") == [name]
    finally:
        backup.drop_database(pg_server, name)


def test_replace_drops_the_old_database_only_after_a_successful_restore(demo_db, tmp_path, pg_server):
    good = backup.dump_database(demo_db, tmp_path / "good")
    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(good.dump_path.read_bytes()[:4000])
    name = "kept_" + demo_db.rsplit("/", 1)[1]
    try:
        backup.restore_database(good.dump_path, pg_server, name)
        with pytest.raises(backup.BackupError):
            backup.restore_database(corrupt, pg_server, name, replace=True)
        restored = backup.database_fingerprints(postgres.database_url(pg_server, name))
        assert backup.compare_fingerprints(good.fingerprints, restored) == []
    finally:
        backup.drop_database(pg_server, name)


def test_an_unreadable_manifest_is_named(demo_db, tmp_path, pg_server):
    result = backup.dump_database(demo_db, tmp_path)
    result.manifest_path.write_text('{"sha256": "truncated')
    for call in (
        lambda: backup.read_manifest(result.dump_path),
        lambda: backup.restore_database(result.dump_path, pg_server, "never_created"),
        lambda: backup.list_backups(tmp_path),
    ):
        with pytest.raises(backup.BackupError) as info:
            call()
        assert f"manifest {result.manifest_path} cannot be read (JSONDecodeError" in str(info.value)
    assert _databases(pg_server, "never_created%") == []
