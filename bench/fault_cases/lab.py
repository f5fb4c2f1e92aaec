"""The fault matrix's laboratory: one private Postgres with the demo data, a Dagster instance on it, the project's
definitions bound to it, secrets set to unique markers, and every text a user could see collected for the leak
scan. Nothing is mocked: cases break real servers, processes, files and folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from dagster._serdes import serialize_value

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres
from dc_pipeline.adapters.postmaster_pid import read_pid_file

REPO = Path(__file__).resolve().parents[2]
# Verdicts: the pipeline did the right thing / refused with a message naming cause and fix / anything else.
SURVIVED, CLEAR, FAILED = "survived", "failed clearly", "FAILED"


@dataclass
class Case:
    name: str
    verdict: str
    note: str
    lost: int = 0  # stored rows destroyed


@dataclass
class Lab:
    root: Path
    server: EmbeddedPostgres
    url: str  # the pipeline's database, with a password marker (trust auth ignores it)
    secrets: dict[str, str]
    defs: object = None  # the project's dg.Definitions, bound to this lab's environment
    instance: object = None
    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text) for the leak scan

    # -- set-up ---------------------------------------------------------------------------------------
    @classmethod
    def create(cls) -> Lab:
        from dc_pipeline.cli import load_demo

        root = Path(tempfile.mkdtemp(prefix="dc_fault_matrix_"))
        os.chmod(root, 0o755)
        server = EmbeddedPostgres(root / "pg")
        admin = server.ensure_running()
        marker = uuid.uuid4().hex[:12]
        secrets = {
            "DATABASE_PASSWORD": f"pw-{marker}",
            "API_KEY": f"apikey-{marker}",
            "SECRET_KEY": f"secretkey-{marker}",
        }
        name = f"fm_{marker}"
        postgres.ensure_database(admin, name)
        url = postgres.database_url(admin, name).replace("://dc@", f"://dc:{secrets['DATABASE_PASSWORD']}@")
        load_demo(url, "small", 42)
        lab = cls(root=root, server=server, url=url, secrets=secrets)
        os.environ.update(
            {
                "DATABASE_URL": url,
                "DAGSTER_PG_URL": postgres.database_url(url, f"{name}_dagster"),
                "REPORTS_DIR": str(root / "reports"),
                "LOGS_DIR": str(root / "logs"),
                "BACKUP_DIR": str(root / "backups"),
                "API_KEY": secrets["API_KEY"],
                "SECRET_KEY": secrets["SECRET_KEY"],
                "API_RETRY_ATTEMPTS": "2",
                "API_RETRY_DELAY": "0.01",
                "API_TIMEOUT": "5",
                "OPTUNA_N_TRIALS": "3",
                "OPTUNA_N_JOBS": "1",
            }
        )
        os.environ.pop("AUTH_TOKEN", None)
        lab.instance = runner.prepare_instance(root / "dagster_home", url)
        lab.reload()
        runner.run_reference(lab.defs, lab.instance)
        return lab

    def reload(self) -> None:
        from dc_pipeline.definitions import build_definitions

        self.defs = build_definitions()

    # -- helpers --------------------------------------------------------------------------------------
    def query(self, sql: str, params=None) -> list[tuple]:
        with postgres.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, *statements: str) -> None:
        with postgres.connect(self.url) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.commit()

    def run(self, keys: list[str], job: str = "ingest_job", **kwargs) -> runner.RunSummary:
        return runner.run_projects(self.defs, self.instance, keys, job_name=job, **kwargs)

    def cli(self, *args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 300):
        """`dc-pipeline ARGS` as a user runs it; its output joins the leak scan."""
        result = subprocess.run(
            [sys.executable, "-m", "dc_pipeline.cli", *args],
            cwd=cwd or self.root,
            env=env or dict(os.environ),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.texts.append((f"dc-pipeline {args[0]} output", result.stdout + result.stderr))
        return result

    def python(self, code: str, *args: str) -> subprocess.Popen:
        """A Python process with the lab's environment (a second run, a lock holder)."""
        return subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env=dict(os.environ),
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def project_rows(self, project_id: int) -> dict[str, int]:
        """Rows of the project in every pipeline table (what a fault must not destroy)."""
        tables = self.query(
            "SELECT table_schema || '.' || table_name FROM information_schema.columns WHERE column_name = "
            "'project_id' AND table_schema IN ('dc_staging', 'dc_core', 'dc_dq', 'dc_models') ORDER BY 1"
        )
        return {
            t: self.query(f"SELECT count(*) FROM {t} WHERE project_id = %s", (project_id,))[0][0] for (t,) in tables
        }

    def run_ids(self, project_id: int, exclude: set[str] = frozenset()) -> dict[str, set[str]]:
        """Per pipeline table holding the project's rows: the run_ids of those rows (not the append-only
        *_history tables: each refresh adds its own rows there by design)."""
        tables = self.query(
            "SELECT c.table_schema || '.' || c.table_name FROM information_schema.columns c JOIN "
            "information_schema.columns r ON (r.table_schema, r.table_name) = (c.table_schema, c.table_name) "
            "AND r.column_name = 'run_id' WHERE c.column_name = 'project_id' AND c.table_schema LIKE 'dc\\_%' "
            "AND c.table_name NOT LIKE 'ref\\_%' AND c.table_name NOT LIKE '%\\_history' ORDER BY 1"
        )
        found = {}
        for (table,) in tables:
            ids = {
                r[0] for r in self.query(f"SELECT DISTINCT run_id FROM {table} WHERE project_id = %s", (project_id,))
            }
            if ids - exclude:
                found[table] = ids
        return found

    def kill_database(self) -> None:
        """An immediate shutdown of the server (SIGQUIT to the postmaster: no checkpoint, crash recovery on
        the next start), as a crash or an out-of-memory kill would leave it."""
        (datadir,) = self.query("SELECT setting FROM pg_settings WHERE name = 'data_directory'")[0]
        pid = read_pid_file(Path(datadir)).pid
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.2)

    def restart_database(self) -> None:
        self.server.ensure_running()

    # -- the leak scan --------------------------------------------------------------------------------
    def leaks(self) -> list[str]:
        """Where a secret marker shows: run events (messages, metadata, errors), report and log files, the
        operations tables, command output and exceptions collected by the cases."""
        texts = list(self.texts)
        for run in self.instance.get_runs():
            texts.append(
                (f"events of {run.job_name} {run.run_id[:8]}", serialize_value(self.instance.all_logs(run.run_id)))
            )
            texts.append((f"tags/config of {run.run_id[:8]}", json.dumps([run.tags, run.run_config], default=str)))
        for folder in ("reports", "logs", "backups"):
            for path in (self.root / folder).rglob("*"):
                if path.is_file() and path.suffix in {".html", ".md", ".json", ".log", ".txt", ".jsonl"}:
                    texts.append((str(path.relative_to(self.root)), path.read_text(errors="replace")))
        for (table,) in self.query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN "
            "('dc_ops', 'dc_reports', 'dc_dq')"
        ):
            texts.append((table, "\n".join(str(r) for r in self.query(f"SELECT * FROM {table}"))))
        return [
            f"{name} in {where}" for name, secret in self.secrets.items() for where, text in texts if secret in text
        ]

    def close(self) -> None:
        self.instance.dispose()
        self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)
