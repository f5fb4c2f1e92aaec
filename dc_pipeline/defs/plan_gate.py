"""Sensors wait while `dc-pipeline demo` launches its work plan through the daemon (demo_ui.py): the demo starts
`dagster dev` with DC_PLAN_MARKER naming a file that exists until the plan is done. Without the wait, a sensor's
first tick (no cursor, nothing materialized yet) would request the same runs the plan launches."""

import os
from pathlib import Path


def plan_in_progress() -> str | None:
    """The skip reason while a plan runs, else None."""
    marker = os.environ.get("DC_PLAN_MARKER")
    if marker and Path(marker).exists():
        return (
            "dc-pipeline demo is materializing every asset (runs tagged dc/plan); this sensor starts from the "
            "state those runs leave once they are done"
        )
    return None
