"""Operations subcommands of `dc-pipeline` (status, backup, restore): registered by cli.build_parser."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

EXIT_UNHEALTHY = 2
EXIT_RESTORE_MISMATCH = 3


def _source_url(dsn: str | None) -> str:
    from dc_pipeline.adapters.database_location import resolve_source_url

    if dsn:
        os.environ["DATABASE_URL"] = dsn
    return resolve_source_url(create=False)


def existing_source(dsn: str | None):
    """The database of this project, never a new empty embedded cluster (SourceLocation)."""
    from dc_pipeline.adapters.database_location import locate_source

    if dsn:
        os.environ["DATABASE_URL"] = dsn
    return locate_source(create=False, new_cluster=False)


def dagster_instance(url: str):
    """The Dagster instance (DAGSTER_HOME, else the demo's), or None when it cannot be opened."""
    import dagster as dg

    from dc_pipeline.adapters import postgres
    from dc_pipeline.adapters.database_location import dc_home

    try:
        with postgres.connect(url, connect_timeout=5):
            pass
        if not os.environ.get("DAGSTER_HOME"):
            home = dc_home() / "dagster_home"
            if not (home / "dagster.yaml").exists():
                return None
            os.environ["DAGSTER_HOME"] = str(home)
        os.environ.setdefault("DAGSTER_PG_URL", postgres.database_url(url, "dagster"))
        return dg.DagsterInstance.get()
    except Exception:
        return None


def cmd_status(args) -> int:
    from dc_pipeline.adapters.api_client import DEFAULT_BASE_URLS
    from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgresError
    from dc_pipeline.defs.operations.status import collect_health
    from dc_pipeline.domain.operations import health as h

    try:
        location = existing_source(args.dsn)
    except EmbeddedPostgresError as exc:  # no cluster here: say so, never start an empty one
        summary = h.summarize([h.ComponentCheck("source_db", h.DOWN, str(exc), critical=True)], datetime.now(UTC))
        return _print_status(summary, args.json)
    summary = collect_health(
        location.url,
        dagster_instance(location.url),
        Path(os.environ.get("REPORTS_DIR", "reports")).resolve(),
        Path(os.environ.get("BACKUP_DIR", "backups")).resolve(),
        Path(os.environ.get("LOGS_DIR", "logs")).resolve(),
        [u for u in (os.environ.get("API_BASE_URLS") or ",".join(DEFAULT_BASE_URLS)).split(",") if u.strip()],
        probe_timeout_s=args.timeout,
    )
    if location.started is not None and location.started.was_down:
        summary = h.with_outage(summary, "source_db", _outage_note(location.started))
    return _print_status(summary, args.json)


def _outage_note(started) -> str:
    since = (
        f"since at least {started.last_seen:%Y-%m-%d %H:%M:%S} UTC (the server's last log entry)"
        if started.last_seen
        else "since an unknown time"
    )
    return f"the embedded database was down {since}; this status check started it"


def _print_status(summary, as_json: bool) -> int:
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2, default=str))
    else:
        print(f"system {summary.status.upper()} at {summary.checked_at}")
        for c in summary.components:
            print(f"  {c.name:<15} {c.state:<8} {c.detail}")
    return EXIT_UNHEALTHY if summary.status == "unhealthy" else 0


def cmd_backup(args) -> int:
    from dc_pipeline.adapters import backup, ops_log, postgres
    from dc_pipeline.adapters.backup_run import RESTORE_CHECK_DATABASE, run_backup
    from dc_pipeline.defs.resources import SettingsResource

    url = existing_source(args.dsn).url  # from a folder without a cluster: an error, not an empty backup
    folder = Path(args.dir or os.environ.get("BACKUP_DIR", "backups")).resolve()
    config_dir = Path(__file__).resolve().parent / "config"
    if args.no_verify:
        result = backup.dump_database(url, folder, config_dir)
        with postgres.connect(url) as conn:  # logged as unverified: status counts only verified backups
            ops_log.record_backup(conn, result, False, ["restore test skipped (--no-verify)"], [], None)
            conn.commit()
        print(f"backup {result.dump_path} of {postgres.redact_url(url)}; NOT verified (--no-verify)")
        return 0
    # The same step as the db_backup asset: dump, restore test, retention, and the dc_ops.backup_log row
    # that `dc-pipeline status` and the system_health sensor read.
    system = SettingsResource(config_path=os.environ.get("DC_CONFIG_PATH", "")).load()
    outcome = run_backup(url, folder, config_dir, system, run_id=None)
    result = outcome.result
    print(
        f"backup {result.dump_path} ({result.size_bytes} bytes, {len(result.fingerprints)} tables, "
        f"{int(result.fingerprints['rows'].sum())} rows, sha256 {result.sha256[:16]}...) of {postgres.redact_url(url)}"
    )
    if not outcome.verified:
        print(f"restore test into {RESTORE_CHECK_DATABASE} FAILED: " + "; ".join(outcome.problems))
        return EXIT_RESTORE_MISMATCH
    check = outcome.check
    print(f"restore test passed: {check.tables} tables, {check.rows} rows identical (counts and checksums)")
    if outcome.removed:
        print("retention removed: " + ", ".join(outcome.removed))
    return 0


def cmd_restore(args) -> int:
    import pandas as pd

    from dc_pipeline.adapters import backup, postgres

    url = _source_url(args.dsn) if args.dsn else _source_url(None)
    backup.restore_database(Path(args.file), url, args.into, replace=args.replace)
    target = postgres.database_url(url, args.into)
    try:
        manifest = backup.read_manifest(Path(args.file))
    except backup.BackupError as exc:
        print(f"restored into {postgres.redact_url(target)}; NOT verified: {exc}")
        return EXIT_RESTORE_MISMATCH
    problems = backup.compare_fingerprints(
        pd.DataFrame(manifest["tables"], columns=backup.FINGERPRINT_COLUMNS), backup.database_fingerprints(target)
    )
    if problems:
        print(f"restored into {postgres.redact_url(target)} but it differs from the backup: " + "; ".join(problems))
        return EXIT_RESTORE_MISMATCH
    print(
        f"restored into {postgres.redact_url(target)}: {len(manifest['tables'])} tables match the manifest "
        "(row counts and checksums)"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operations subcommands to the `dc-pipeline` parser."""
    status = sub.add_parser("status", help="health of every component; exit 2 when unhealthy")
    status.add_argument("--json", action="store_true", help="print the full status as JSON")
    status.add_argument("--dsn", default=None, help="a Postgres URL (default: DATABASE_URL, else embedded)")
    status.add_argument("--timeout", type=int, default=5, help="seconds allowed per probe")
    status.set_defaults(func=cmd_status)

    backup = sub.add_parser("backup", help="pg_dump -Fc into BACKUP_DIR with a manifest, then a restore test")
    backup.add_argument("--dsn", default=None)
    backup.add_argument("--dir", default=None, help="backup folder (default BACKUP_DIR, else ./backups)")
    backup.add_argument("--no-verify", action="store_true", help="skip the restore test")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser("restore", help="restore a backup into a new database and verify it")
    restore.add_argument("file", help="a .dump written by `dc-pipeline backup` or the db_backup asset")
    restore.add_argument("--into", required=True, help="name of the database to create on the same server")
    restore.add_argument("--replace", action="store_true", help="drop the database first if it exists")
    restore.add_argument("--dsn", default=None)
    restore.set_defaults(func=cmd_restore)
