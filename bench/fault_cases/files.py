"""Faults of files and folders, through the `dc-pipeline` command as a user runs it: damaged backups and
manifests, a project folder moved or copied with its embedded database, two commands starting the embedded
server at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres
from fault_cases.lab import CLEAR, FAILED, SURVIVED, Case, Lab


def _databases(lab: Lab) -> set[str]:
    return {r[0] for r in lab.query("SELECT datname FROM pg_database")}


def backups(lab: Lab) -> list[Case]:
    folder = lab.root / "backups"
    made = lab.cli("backup", "--dsn", lab.url, "--dir", str(folder))
    if made.returncode != 0:
        return [Case("backup of the pipeline database", FAILED, (made.stderr or made.stdout).strip()[-140:])]
    dump = sorted(folder.glob("*.dump"))[-1]
    rows_before = lab.query("SELECT count(*) FROM public.normalisedvalue")[0][0]

    def restore(name: str, damage, expected: str) -> Case:
        target = folder / f"{name.replace(' ', '_')}.dump"
        shutil.copy(dump, target)
        shutil.copy(dump.with_suffix(".manifest.json"), target.with_suffix(".manifest.json"))
        damage(target)
        into = f"restored_{len(lab.texts)}"
        result = lab.cli("restore", str(target), "--into", into, "--dsn", lab.url)
        message = (result.stderr or result.stdout).strip()
        left = into in _databases(lab)
        clear = result.returncode != 0 and expected in message and not left
        note = message.splitlines()[-1][:120] if message else "no message"
        return Case(name, CLEAR if clear else FAILED, note + (" (a database was left behind)" if left else ""))

    def truncate(path: Path) -> None:
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        path.with_suffix(".manifest.json").unlink()

    def corrupt_manifest(path: Path) -> None:
        path.with_suffix(".manifest.json").write_text('{"sha256": "0f0f", "tables": [')

    def flip_bytes(path: Path) -> None:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    cases = [
        restore("truncated dump without a manifest", truncate, "restore"),
        restore("unreadable manifest", corrupt_manifest, "manifest.json"),
        restore("dump damaged behind its manifest", flip_bytes, "does not match the sha256"),
    ]
    good = lab.cli("restore", str(dump), "--into", "restored_ok", "--dsn", lab.url)
    ok = good.returncode == 0 and "match the manifest" in good.stdout
    cases.append(Case("restore of an intact backup", SURVIVED if ok else FAILED, good.stdout.strip()[-120:]))
    lost = rows_before - lab.query("SELECT count(*) FROM public.normalisedvalue")[0][0]
    cases[0].lost = max(0, lost)
    return cases


def _cli_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DAGSTER_")) and k != "DC_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "dc_pipeline.cli", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _url_in(folder: Path) -> str:
    result = _cli_in(folder, "db", "url")
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip()[-200:])
    return result.stdout.strip().splitlines()[-1]


def _marks(url: str) -> list[int]:
    with postgres.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS fault_mark (x int)")
        conn.commit()
        return [r[0] for r in conn.execute("SELECT x FROM fault_mark ORDER BY 1").fetchall()]


def _mark(url: str, value: int) -> None:
    with postgres.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS fault_mark (x int)")
        conn.execute("INSERT INTO fault_mark VALUES (%s)", (value,))
        conn.commit()


def folders(lab: Lab) -> list[Case]:
    place = lab.root / "projects"
    place.mkdir(mode=0o755)
    original, moved, copied, fresh = (place / n for n in ("original", "moved", "copied", "fresh"))
    for folder in (original, fresh):
        folder.mkdir(mode=0o755)
    cases = []
    try:
        _mark(_url_in(original), 1)
        original.rename(moved)
        moved_url = _url_in(moved)
        kept = _marks(moved_url) == [1]
        cases.append(
            Case(
                "project folder moved",
                SURVIVED if kept and not original.exists() else FAILED,
                f"data {'found' if kept else 'NOT found'} after mv; "
                f"{'no' if not original.exists() else 'a new'} cluster at the old path",
                lost=0 if kept else 1,
            )
        )
        EmbeddedPostgres(moved / ".dc_pipeline").stop()
        shutil.copytree(moved, copied, symlinks=True)
        copy_url, moved_url = _url_in(copied), _url_in(moved)
        _mark(copy_url, 2)
        separate = copy_url != moved_url and _marks(moved_url) == [1] and _marks(copy_url) == [1, 2]
        cases.append(
            Case(
                "project folder copied",
                SURVIVED if separate else FAILED,
                "the copy has its own server and data; writes to it stay there"
                if separate
                else f"copy {copy_url} / original {moved_url} share data",
                lost=0 if _marks(moved_url) == [1] else 1,
            )
        )
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda _: _cli_in(fresh, "db", "url"), range(2)))
        urls = {r.stdout.strip() for r in results}
        both = all(r.returncode == 0 for r in results) and len(urls) == 1
        errors = "; ".join(r.stderr.strip()[-80:] for r in results if r.returncode != 0)
        cases.append(
            Case(
                "two commands start the embedded server at once",
                SURVIVED if both else FAILED,
                "both succeeded, one server" if both else errors or f"{len(urls)} different servers",
            )
        )
    finally:
        for state in place.glob("*/.dc_pipeline"):
            EmbeddedPostgres(state).stop()
    return cases


def secrets_in_errors(lab: Lab) -> Case:
    """A database error with a password in the URL: the message a user sees must not carry it."""
    url = lab.url.rsplit(":", 1)[0] + ":1/nowhere"  # same credentials, a port nobody listens on
    try:
        postgres.connect(url, connect_timeout=2)
        return Case("password in a failing DATABASE_URL", FAILED, "connected to port 1?")
    except postgres.DatabaseError as exc:
        message = str(exc)
    lab.texts.append(("connection error", message))
    status = lab.cli("status", "--json", "--timeout", "2")
    leaked = lab.secrets["DATABASE_PASSWORD"] in message
    note = message[:110] + ("" if status.returncode in (0, 2) else f"; status exit {status.returncode}")
    return Case("password in a failing DATABASE_URL", FAILED if leaked else CLEAR, note)
