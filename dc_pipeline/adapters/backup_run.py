"""One verified backup (SPEC §11): dump, restore test, retention and the dc_ops.backup_log row.
Shared by the db_backup asset and post_deploy_validation_job, which runs it when the newest
verified backup is older than 24 h."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from dc_pipeline.adapters import backup, ops_log, postgres
from dc_pipeline.domain.operations.retention import backups_to_delete
from dc_pipeline.domain.settings import SystemConfig

RESTORE_CHECK_DATABASE = "digi_cadence_restore_check"


@dataclass
class BackupOutcome:
    result: backup.BackupResult
    check: backup.RestoreCheck | None
    problems: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.problems


def run_backup(url: str, backup_dir: Path, config_dir: Path, system: SystemConfig, run_id: str | None) -> BackupOutcome:
    result = backup.dump_database(url, backup_dir, config_dir)
    try:
        check = backup.verify_restore(result.dump_path, url, RESTORE_CHECK_DATABASE)
        problems = list(check.problems)
    except Exception as exc:  # no CREATEDB, disk full...: the check fails, the dump stays
        check, problems = None, [f"restore test could not run: {exc}"]
    keep = system.maintenance_config.backup_keep
    removed: list[str] = []
    if not problems:  # never prune older copies on the strength of an unverified new one
        for path in backups_to_delete(backup.list_backups(backup_dir), keep.daily, keep.weekly, keep.monthly)["path"]:
            removed += backup.delete_backup(path)
    with postgres.connect(url) as conn:
        ops_log.record_backup(conn, result, not problems, problems, removed, run_id)
        conn.commit()
    return BackupOutcome(result, check, problems, removed)


def backup_is_recent(last: datetime | None, now: datetime, max_age_hours: float) -> bool:
    return last is not None and now - last < timedelta(hours=max_age_hours)
