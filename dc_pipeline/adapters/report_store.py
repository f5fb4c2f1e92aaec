"""Rendered report files (REPORTS_DIR/<folder>/<report_id>/<UTC timestamp>.<ext> plus latest.<ext>, folder `p<id>`
for the report assets) and their row in dc_reports.report_index."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dc_pipeline.adapters import postgres

REPORT_INDEX = "dc_reports.report_index"


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temp file and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_report_files(
    root: Path, partition: str, report_id: str, rendered: dict[str, str], generated_at: datetime | None = None
) -> dict[str, str]:
    """Write each rendering (ext -> text) twice: timestamped and latest. Returns ext -> path."""
    stamp = (generated_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    folder = Path(root) / partition / report_id
    paths = {}
    for ext, text in rendered.items():
        target = folder / f"{stamp}.{ext}"
        _atomic_write(target, text)
        _atomic_write(folder / f"latest.{ext}", text)
        paths[ext] = str(target)
    return paths


def record_report(conn, row: dict) -> None:
    """Append one row to dc_reports.report_index (created on first use)."""
    frame = pd.DataFrame([row])
    postgres.ensure_table(conn, REPORT_INDEX, frame)
    postgres.copy_frame(conn, REPORT_INDEX, frame)
