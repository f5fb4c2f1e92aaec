"""How `dc-pipeline demo` starts `dagster dev` so that its webserver, daemon, code server and run
workers see exactly the environment the demo resolved.

Dagster loads a `.env` from its working folder and lets it override the environment (an empty
`API_BASE_URLS=` there blanks the simulator's URLs; `OPTUNA_N_TRIALS=100` replaces the demo's
budget in every run worker). So `dagster dev` runs in its instance folder (DAGSTER_HOME), where there
is no `.env`, with every path setting made absolute against the project folder; the project's `.env`
was already applied by `dc-pipeline` under its own rule (adapters/env_file.py).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

# Settings holding folders, with the defaults the resources use relative to the project folder.
PATH_SETTINGS = {
    "REPORTS_DIR": "reports",
    "BACKUP_DIR": "backups",
    "LOGS_DIR": "logs",
    "MODELS_DIR": "models",
    "DC_HOME": ".dc_pipeline",
}


def dagster_dev_process(
    module: str, port: int, home: Path, environ: Mapping[str, str], root: Path | None = None, host: str = "127.0.0.1"
) -> tuple[list[str], Path, dict[str, str]]:
    """(command, working folder, environment) for `dagster dev` serving `module`."""
    root = Path(root or Path.cwd()).resolve()
    env = dict(environ)
    for name, default in PATH_SETTINGS.items():
        env[name] = str(root / (env.get(name) or default))  # an absolute value stays as it is
    if env.get("DC_CONFIG_PATH"):
        env["DC_CONFIG_PATH"] = str(root / env["DC_CONFIG_PATH"])
    env["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "dagster", "dev", "-m", module, "-h", host, "-p", str(port)]
    return command, home, env
