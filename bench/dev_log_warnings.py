"""Warnings in the `dagster dev` log: a private Postgres with the demo data, `dagster dev` started the way
`dc-pipeline demo` starts it, left alone for --minutes (its sensors tick and request the first ingest runs, each
run worker loads the code location), then the warning lines of its output counted by category and source.

    python bench/dev_log_warnings.py [--minutes 4] [--log dev.log]

Prints one row per (category, where it comes from) and the runs that were launched meanwhile.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from dc_pipeline import runner
from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres
from dc_pipeline.cli import load_demo
from dc_pipeline.ui_launch import dagster_dev_process

# "path.py:123: BetaWarning: Parameter `backfill_policy` of ..." (Python's warning format)
WARNING = re.compile(r"(?P<where>[\w./-]+\.py):\d+: (?P<category>\w*Warning): (?P<message>.*)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def count_warnings(text: str) -> collections.Counter:
    """(category, short message) -> lines, for every warning header line of the log."""
    counts: collections.Counter = collections.Counter()
    for line in text.splitlines():
        match = WARNING.search(line)
        if match:
            counts[(match["category"], match["message"][:90])] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--log", default="", help="keep the dagster dev output in this file")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dc_dev_warnings_"))
    os.chmod(root, 0o755)
    server = EmbeddedPostgres(root / "pg")
    log_path = Path(args.log) if args.log else root / "dagster_dev.log"
    try:
        admin = server.ensure_running()
        name = f"w_{uuid.uuid4().hex[:8]}"
        postgres.ensure_database(admin, name)
        url = postgres.database_url(admin, name)
        load_demo(url, "small", 42)
        os.environ["DAGSTER_PG_URL"] = postgres.database_url(admin, f"{name}_dagster")
        instance = runner.prepare_instance(root / "dagster_home", url)
        environ = {**os.environ, "DATABASE_URL": url, "OPTUNA_N_TRIALS": "5", "OPTUNA_N_JOBS": "1"}
        command, cwd, env = dagster_dev_process(
            "dc_pipeline.definitions", _free_port(), root / "dagster_home", environ, root=root
        )
        with log_path.open("w") as log:
            dev = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            time.sleep(args.minutes * 60)
            tree = psutil.Process(dev.pid).children(recursive=True)  # some start sessions of their own
            os.killpg(dev.pid, signal.SIGTERM)
            try:
                dev.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(dev.pid, signal.SIGKILL)
            for process in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
        runs = instance.get_runs()
        text = log_path.read_text(errors="replace")
        counts = count_warnings(text)
        print(f"dagster dev for {args.minutes:g} min: {len(text.splitlines())} log lines, {len(runs)} runs "
              f"({collections.Counter(r.status.value for r in runs)})")  # fmt: skip
        print(f"{'lines':>6}  {'category':<20} message")
        for (category, message), n in counts.most_common():
            print(f"{n:>6}  {category:<20} {message}")
        print(f"{sum(counts.values()):>6}  {'total':<20} warning lines (each followed by its source line)")
        instance.dispose()
    finally:
        server.stop()
        if not args.log:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
