"""A process that has imported the heavy libraries once and forks a run worker for each run (the launcher's side is
in run_launcher.py).

Dagster's default launcher starts every run worker as a fresh `spawn` process of the code server, which first
imports dagster, pandas, SciPy, matplotlib, statsmodels, Optuna ... again: about 2.5 CPU seconds before a run
does anything (5 to 8 s on a busy 2-core machine), paid by every run a user, a sensor or a backfill launches.
Forked from here, a worker starts with those imported; it still imports this project's own modules from disk,
so a run uses the code as it is now (nothing of dc_pipeline beyond this module and its packages is preloaded).

Protocol, one line each way: the launcher writes a serialized `ExecuteRunArgs`, this process forks and answers
the worker's pid. The server is single-threaded, so forking it is safe; it exits when the launcher closes its
input, leaving running workers to finish.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback

# Third-party modules a run may import, heaviest first; a missing optional one is skipped.
PRELOAD = (
    "dagster",
    "dagster_postgres",
    "pandas",
    "numpy",
    "pyarrow",
    "psycopg",
    "sqlalchemy",
    "scipy.stats",
    "scipy.optimize",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "statsmodels.api",
    "statsmodels.tsa.statespace.sarimax",
    "statsmodels.tsa.holtwinters",
    "optuna",
    "matplotlib.figure",
    "matplotlib.backends.backend_svg",
    "jinja2",
    "requests",
)


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def run_worker(execute_run_args: str) -> int:
    """What `dagster api execute_run` does, in this (forked) process; the exit code."""
    from dagster._cli.api import execute_run_command

    try:
        execute_run_command.callback(input_json=execute_run_args, compressed_input_json=None)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    return 0


def _child(execute_run_args: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server ignores it; a run's subprocesses need exit codes
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # never the protocol pipe: the worker's output goes where the server's errors go
    code = 1
    try:
        code = run_worker(execute_run_args)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished workers are reaped by the kernel
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    replies.write("ready\n")
    for line in sys.stdin:
        execute_run_args = line.strip()
        if not execute_run_args:
            continue
        pid = os.fork()
        if pid == 0:
            replies.close()
            _child(execute_run_args)
        replies.write(f"{pid}\n")


if __name__ == "__main__":
    main()
