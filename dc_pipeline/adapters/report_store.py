"""Rendered report files: REPORTS_DIR/p<id>/<report_id>/<UTC timestamp>.<ext> plus latest.<ext>."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path


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
