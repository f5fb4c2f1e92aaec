"""The code version every output records (SPEC §0): the package version plus the git commit when known."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from dc_pipeline import __version__


@lru_cache(maxsize=1)
def code_version() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"dc_pipeline {__version__}" + (f"+g{sha}" if sha else "")
