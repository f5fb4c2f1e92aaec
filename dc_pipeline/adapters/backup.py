"""Backups of the `digi_cadence` database (source, pipeline and optuna schemas): pg_dump -Fc with a
sha256 manifest and per-table fingerprints, a config tarball, restores that are verified, and
retention (SPEC §11).

Fingerprints (row count and an order-independent md5 of the rows' text) are taken inside the very
snapshot pg_dump exports from, so a restore can be compared exactly even while the database changes.
Passwords travel in PGPASSWORD, never on a command line or in a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pandas as pd
import psycopg
from psycopg import sql

from dc_pipeline.adapters.postgres import connect, database_url, redact_url

FINGERPRINT_COLUMNS = ["table_name", "rows", "checksum"]
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


class BackupError(RuntimeError):
    """A dump, restore or verification failed; the message names the cause and the fix."""


@dataclass(frozen=True)
class BackupResult:
    dump_path: Path
    manifest_path: Path
    config_archive: Path | None
    sha256: str
    size_bytes: int
    fingerprints: pd.DataFrame  # FINGERPRINT_COLUMNS
    created_at: datetime


@dataclass(frozen=True)
class RestoreCheck:
    database: str
    tables: int
    rows: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


# -- tools ------------------------------------------------------------------------------------
def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: DC_PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH."""
    candidates = [os.environ.get("DC_PG_BIN", "")] + sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")), reverse=True
    )
    for folder in candidates:
        if folder and (Path(folder) / name).exists():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools or set DC_PG_BIN to their folder")
    return found


def _libpq_args(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment carrying it in PGPASSWORD."""
    parts = urlsplit(url)
    env = {**os.environ}
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        netloc = parts.netloc.replace(f":{parts.password}@", "@")
        url = urlunsplit(parts._replace(netloc=netloc))
    return url, env


def _run(args: list[str], url: str, what: str) -> None:
    clean_url, env = _libpq_args(url)
    result = subprocess.run([*args, f"--dbname={clean_url}"], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        message = (result.stderr or result.stdout).strip()[-600:]
        password = urlsplit(url).password
        if password:
            message = message.replace(unquote(password), "***")
        raise BackupError(f"{what} failed (exit {result.returncode}) on {redact_url(url)}: {message}")


# -- fingerprints -----------------------------------------------------------------------------
def _user_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_temp%%' "
        "ORDER BY 1, 2",
        (list(_SYSTEM_SCHEMAS),),
    ).fetchall()


def fingerprints(conn: psycopg.Connection) -> pd.DataFrame:
    """Per user table: row count and md5 over the sorted md5s of its rows (order-independent)."""
    # Row text of timestamptz depends on the session time zone: fix it so fingerprints compare.
    conn.execute("SET LOCAL TimeZone = 'UTC'" if not conn.autocommit else "SET TimeZone = 'UTC'")
    rows = []
    for schema, name in _user_tables(conn):
        table = sql.Identifier(schema, name)
        count, checksum = conn.execute(
            sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) "
                "FROM (SELECT md5(t::text) AS h FROM {} AS t) AS rows_"
            ).format(table)
        ).fetchone()
        rows.append((f"{schema}.{name}", int(count), checksum))
    return pd.DataFrame(rows, columns=FINGERPRINT_COLUMNS)


def database_fingerprints(url: str) -> pd.DataFrame:
    with connect(url, autocommit=True) as conn:
        return fingerprints(conn)


def compare_fingerprints(expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """Differences per table (missing, extra, row count, checksum); [] when identical."""
    merged = expected.merge(
        actual, on="table_name", how="outer", suffixes=("_expected", "_actual"), indicator="presence"
    )
    problems = []
    for row in merged.itertuples():
        if row.presence == "left_only":
            problems.append(f"{row.table_name}: missing after restore")
        elif row.presence == "right_only":
            problems.append(f"{row.table_name}: not in the backup's manifest")
        elif row.rows_expected != row.rows_actual:
            problems.append(f"{row.table_name}: {int(row.rows_actual)} rows restored, {int(row.rows_expected)} dumped")
        elif row.checksum_expected != row.checksum_actual:
            problems.append(f"{row.table_name}: checksum differs with equal row counts ({int(row.rows_actual)})")
    return problems


# -- dump -------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump_database(
    url: str, backup_dir: Path, config_dir: Path | None = None, now: datetime | None = None
) -> BackupResult:
    """pg_dump -Fc of the whole database from one exported snapshot, whose per-table fingerprints
    go into the manifest; plus a tar.gz of `config_dir`. Files: <db>_<stamp>.dump, .manifest.json."""
    backup_dir = Path(backup_dir)
    backup_dir.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    database = urlsplit(url).path.lstrip("/") or "postgres"
    dump_path = backup_dir / f"{database}_{stamp}.dump"
    partial = dump_path.with_suffix(".dump.partial")
    with connect(url) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        table_prints = fingerprints(conn)
        # The snapshot stays valid while this transaction is open: pg_dump reads exactly it.
        _run(
            [pg_tool("pg_dump"), "--format=custom", f"--file={partial}", f"--snapshot={snapshot}", "--no-owner"],
            url,
            "pg_dump",
        )
        conn.rollback()
    partial.replace(dump_path)
    archive = None
    if config_dir is not None and Path(config_dir).is_dir():
        archive = backup_dir / f"config_{stamp}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(config_dir, arcname="config")
    sha = _sha256(dump_path)
    manifest = {
        "database": database,
        "created_at": now.isoformat(),
        "dump": dump_path.name,
        "sha256": sha,
        "size_bytes": dump_path.stat().st_size,
        "format": "pg_dump custom",
        "config_archive": archive.name if archive else None,
        "config_sha256": _sha256(archive) if archive else None,
        "tables": table_prints.to_dict(orient="records"),
    }
    manifest_path = dump_path.with_suffix(".manifest.json")
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return BackupResult(dump_path, manifest_path, archive, sha, manifest["size_bytes"], table_prints, now)


def read_manifest(dump_path: Path) -> dict:
    path = Path(dump_path).with_suffix(".manifest.json")
    if not path.exists():
        raise BackupError(f"no manifest next to {dump_path} ({path.name}): cannot verify this dump")
    return _load_manifest(path)


def _load_manifest(path: Path) -> dict:
    """The manifest's content; an unreadable or damaged one is a BackupError naming the file."""
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(
            f"manifest {path} cannot be read ({type(exc).__name__}: {exc}): restore the file from another copy "
            "of the backup, or move it away to restore the dump unverified"
        ) from None
    missing = [k for k in ("sha256", "tables") if not isinstance(manifest, dict) or k not in manifest]
    if missing:
        raise BackupError(f"manifest {path} lacks {', '.join(missing)}: it was not written by dc-pipeline backup")
    return manifest


# -- restore ----------------------------------------------------------------------------------
def restore_database(dump_path: Path, server_url: str, target_db: str, replace: bool = False) -> None:
    """pg_restore the dump into a temporary database on the server of `server_url`, then rename it to
    `target_db`: a damaged dump leaves no database behind, so a rerun works. An existing `target_db`
    is an error unless `replace` (then it is dropped, only after the restore succeeded)."""
    dump_path = Path(dump_path)
    if not dump_path.exists():
        raise BackupError(f"backup file {dump_path} does not exist")
    with_manifest = dump_path.with_suffix(".manifest.json")
    if with_manifest.exists():
        manifest_sha = _load_manifest(with_manifest)["sha256"]
        if manifest_sha != _sha256(dump_path):
            raise BackupError(f"{dump_path.name} does not match the sha256 in its manifest: the file is damaged")
    admin = database_url(server_url, "postgres")
    if _database_exists(admin, target_db) and not replace:
        raise BackupError(f"database {target_db} already exists: choose another name or pass --replace")
    scratch = f"{target_db[:40]}_restoring_{uuid.uuid4().hex[:8]}"
    with connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch)))
    try:
        _run(
            [
                pg_tool("pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                str(dump_path),
            ],
            database_url(server_url, scratch),
            "pg_restore",
        )
        with connect(admin, autocommit=True) as conn:
            if replace:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target_db)))
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(scratch), sql.Identifier(target_db))
            )
    except BaseException:
        with contextlib.suppress(Exception):  # the restore's own error is the one to report
            drop_database(server_url, scratch)
        raise


def _database_exists(admin_url: str, name: str) -> bool:
    with connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def verify_restore(dump_path: Path, server_url: str, target_db: str, drop: bool = True) -> RestoreCheck:
    """Restore into `target_db`, compare per-table row counts and checksums with the manifest,
    and drop the scratch database afterwards (when `drop`)."""
    manifest = read_manifest(dump_path)
    expected = pd.DataFrame(manifest["tables"], columns=FINGERPRINT_COLUMNS)
    try:
        restore_database(dump_path, server_url, target_db, replace=True)
        actual = database_fingerprints(database_url(server_url, target_db))
    finally:
        if drop:
            drop_database(server_url, target_db)
    problems = compare_fingerprints(expected, actual)
    return RestoreCheck(target_db, len(actual), int(actual["rows"].sum()) if len(actual) else 0, problems)


def drop_database(server_url: str, name: str) -> None:
    with connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# -- listing and retention --------------------------------------------------------------------
def list_backups(backup_dir: Path) -> pd.DataFrame:
    """Backups with a manifest: path, created_at (UTC), sha256, size_bytes."""
    rows = []
    for manifest_path in sorted(Path(backup_dir).glob("*.manifest.json")):
        manifest = _load_manifest(manifest_path)
        rows.append(
            (
                str(Path(backup_dir) / manifest["dump"]),
                pd.Timestamp(manifest["created_at"]),
                manifest["sha256"],
                manifest["size_bytes"],
            )
        )
    return pd.DataFrame(rows, columns=["path", "created_at", "sha256", "size_bytes"])


def delete_backup(dump_path: Path) -> list[str]:
    """Remove a dump, its manifest and its config archive; returns the removed file names."""
    dump_path = Path(dump_path)
    removed = []
    manifest_path = dump_path.with_suffix(".manifest.json")
    archive = None
    if manifest_path.exists():
        archive = json.loads(manifest_path.read_text()).get("config_archive")
    for path in (dump_path, manifest_path, dump_path.parent / archive if archive else None):
        if path is not None and path.exists():
            path.unlink()
            removed.append(path.name)
    return removed
