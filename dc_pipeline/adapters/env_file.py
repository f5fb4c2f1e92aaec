"""The project's `.env`: one loading rule, the same for every `dc-pipeline` command.

A value already in the environment (the user's shell, or what `dc-pipeline demo` sets for its own run)
wins; a variable the environment lacks takes its value from `.env`; an empty value in `.env` is never
applied, so a listed-but-unset variable cannot blank out anything. Dagster's own `dagster dev` applies
`.env` the other way round (the file overrides the shell), which is why the shipped `.env` lists every
variable commented out, and why `dc-pipeline demo` starts `dagster dev` outside the project folder
with the environment it resolved here (see `dc_pipeline.ui_launch`).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from dotenv import dotenv_values


def load_env_file(path: Path, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Apply `path` to `environ` (default os.environ) under the rule above; returns what was set."""
    environ = os.environ if environ is None else environ
    if not Path(path).is_file():
        return {}
    applied = {
        name: value for name, value in dotenv_values(path).items() if value not in (None, "") and not environ.get(name)
    }
    environ.update(applied)
    return applied
