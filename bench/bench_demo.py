"""The small demo end to end, per stage: `dc-pipeline demo --no-ui` (runs in process, two forked workers) and
`dc-pipeline demo --exit` (dagster dev first, every run launched through the webserver and the daemon, plus one
more ingest_job for one project as a user's Launch). Each repeat starts from a clean DC_HOME (a new embedded
cluster, the demo data loaded, no run, no study), so it measures what a newcomer waits for.

    python bench/bench_demo.py [--repeat 3] [--paths no-ui,ui] [--port 3400]

Prints the median seconds per stage over the repeats, and the load average, since a loaded machine stretches
every number (compare paths measured in the same session). For the in-process path also the CPU seconds per stage
(the command and its forked workers) and the embedded database server's CPU seconds: the demo is CPU-bound, so
their sum over the cores is the floor of its wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = {"no-ui": ["--no-ui"], "ui": ["--exit"]}


def one_run(path: str, port: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench_demo_"))
    os.chmod(work, 0o755)  # the embedded server may run as `nobody`
    timings = work / "timings.json"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DAGSTER_HOME", "DAGSTER_PG_URL")}
    env.update(DC_HOME=str(work / "home"), REPORTS_DIR=str(work / "reports"), MODELS_DIR=str(work / "models"))
    command = [sys.executable, "-m", "dc_pipeline.cli", "demo", *FLAGS[path], "--port", str(port),
               "--timings", str(timings), "--show-reports", "0"]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    try:
        if done.returncode != 0:
            raise SystemExit(f"{path} demo failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        result = json.loads(timings.read_text())
        result["command_seconds"] = wall
        result["database_cpu_seconds"] = _server_cpu(work / "home")
        return result
    finally:
        _stop_server(work / "home")
        shutil.rmtree(work, ignore_errors=True)


def _server_cpu(home: Path) -> float | None:
    """CPU seconds of the embedded server so far: the postmaster, its live processes and its exited ones (the
    connections' backends), or None when it is not a system server."""
    import psutil

    sys.path.insert(0, str(ROOT))
    from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres

    pid = EmbeddedPostgres(home).server_pid() if (home / "embedded.json").exists() else None
    if pid is None:
        return None
    server = psutil.Process(pid)
    own = server.cpu_times()
    live = sum(c.cpu_times().user + c.cpu_times().system for c in server.children())
    return own.user + own.system + own.children_user + own.children_system + live


def _stop_server(home: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres

    if (home / "embedded.json").exists():
        EmbeddedPostgres(home).stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paths", default="no-ui,ui")
    parser.add_argument("--port", type=int, default=3400)
    args = parser.parse_args()
    load = os.getloadavg()
    rows: dict[str, dict[str, list[float]]] = {}
    for path in args.paths.split(","):
        for _ in range(args.repeat):
            result = one_run(path, args.port)
            for stage in result["stages"]:
                rows.setdefault(stage["stage"], {}).setdefault(path, []).append(stage["seconds"])
                if path == "no-ui":  # the runs' CPU is this command's own only when they run in its processes
                    rows[stage["stage"]].setdefault("no-ui cpu", []).append(stage["cpu_seconds"])
            if path == "no-ui":
                cpu = [s["cpu_seconds"] for s in result["stages"]]
                rows.setdefault("total_seconds", {}).setdefault("no-ui cpu", []).append(sum(cpu))
            for extra in (
                "ui_seconds",
                "ingest_job_one_project_via_daemon_seconds",
                "total_seconds",
                "command_seconds",
                "database_cpu_seconds",
            ):
                if result.get(extra) is not None:
                    rows.setdefault(extra, {}).setdefault(path, []).append(result[extra])
    paths = args.paths.split(",")
    if "no-ui" in paths:
        paths.insert(paths.index("no-ui") + 1, "no-ui cpu")
    print(f"median of {args.repeat} clean runs; load average at start {load[0]:.1f} on {os.cpu_count()} cores")
    print("(no-ui cpu: CPU seconds of the command and its forked workers; database_cpu_seconds: the embedded server's)")
    print(f"{'stage':<52}" + "".join(f"{p + ' s':>12}" for p in paths))
    for stage, values in rows.items():
        cells = "".join(f"{statistics.median(values[p]):>12.1f}" if p in values else f"{'-':>12}" for p in paths)
        print(f"{stage:<52}{cells}")


if __name__ == "__main__":
    main()
