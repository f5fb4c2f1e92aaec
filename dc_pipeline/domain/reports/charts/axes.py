"""Readable axes at 36+ periods and 20+ brands: short period labels and thinned ticks."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

MAX_X_TICKS = 12
MAX_VERTICAL_BARS = 12  # more categories than this are drawn as horizontal bars


def short_period(label: str, quarterly: bool = False) -> str:
    """'2024-04-01' -> 'Apr 24' (or 'Q2 24' for quarterly series); other labels unchanged."""
    try:
        p = pd.Timestamp(label)
    except (ValueError, TypeError):
        return str(label)
    return f"Q{(p.month - 1) // 3 + 1} {p:%y}" if quarterly else f"{p:%b %y}"


def is_quarterly(labels: Sequence[str]) -> bool:
    try:
        months = {pd.Timestamp(x).month for x in labels}
    except (ValueError, TypeError):
        return False
    return len(labels) > 1 and months <= {1, 4, 7, 10}


def thinned_ticks(n: int, max_ticks: int = MAX_X_TICKS) -> list[int]:
    """Indices of the labels to show: every k-th so that at most max_ticks remain, always the last."""
    if n <= max_ticks:
        return list(range(n))
    step = -(-n // max_ticks)
    ticks = list(range(0, n, step))
    if ticks[-1] != n - 1:
        ticks[-1] = n - 1
    return ticks
