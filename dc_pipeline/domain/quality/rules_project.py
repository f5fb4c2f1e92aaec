"""Project-level rules: T2 (staleness of the latest update) and W1 (row volume), one unit per project."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.context import RunContext
from dc_pipeline.domain.quality.tally import RuleRows, counted

VOLUME_TOLERANCE = 0.20
FIRST_RUN_MIN_SHARE = 0.50


def _t2(ctx, as_of: pd.Timestamp, limit: int, n_rows: tuple[int, int], latest: list) -> tuple[int, bool, str]:
    """(units, passed, message) of one project. `latest`: the newest updated_at of each landed table
    that has the column and rows, values first (a table whose rows all lack it gives NaT)."""
    if not ctx.is_active:
        return 0, False, f"not applicable: project status {ctx.status}"
    if not any(n_rows):
        return 1, False, "no rows landed, so no update time"
    if not latest:
        return 0, False, "updated_at not provided with the landed rows"
    newest = max(latest)  # as Python's max: a leading NaT wins, so one table without any stamp fails
    if pd.isna(newest):
        return 1, False, "updated_at is null on every landed row"
    age_days = (as_of - newest) / pd.Timedelta(days=1)
    message = (
        f"latest update {newest:%Y-%m-%d %H:%M} is {age_days:.1f} days before "
        f"{as_of:%Y-%m-%d %H:%M}, limit {limit} days"
    )
    return 1, bool(age_days <= limit), message


def rule_t2(rc: RunContext, tables: list[tuple[np.ndarray, np.ndarray | None, np.ndarray]]) -> RuleRows:
    """`tables`: (p of each row, updated_at of each row or None without the column, rows per
    project) per landed table."""
    n = len(rc)
    counts = [count for _, _, count in tables]
    newest = []
    for p, stamps, _ in tables:
        if stamps is None:
            newest.append(None)
            continue
        latest = np.full(n, np.iinfo("int64").min, dtype="int64")
        np.maximum.at(latest, p, stamps.view("int64"))
        newest.append(latest.view("datetime64[ns]"))
    verdicts = []
    for i, ctx in enumerate(rc.projects):
        latest = [pd.Timestamp(s[i]) for s, c in zip(newest, counts) if s is not None and c[i]]
        verdicts.append(_t2(ctx, rc.as_of, rc.config.max_staleness_days, tuple(int(c[i]) for c in counts), latest))
    units, passed, message = (list(x) for x in zip(*verdicts)) if verdicts else ([], [], [])
    return counted("T2", np.arange(n), np.full(n, np.nan), units, passed, n, message=message, empty=message)


def _w1(n_rows: int, previous_row_count, expected_cells: int) -> tuple[bool, str]:
    if previous_row_count:
        change = (n_rows - previous_row_count) / previous_row_count
        return abs(change) <= VOLUME_TOLERANCE + 1e-12, (
            f"row count {n_rows} vs {previous_row_count} in the previous successful run "
            f"({change:+.1%}, limit ±{VOLUME_TOLERANCE:.0%})"
        )
    if expected_cells <= 0:
        return False, (
            f"first run: {n_rows} rows but 0 expected cells "
            "(no usable active metrics, member brands or covered periods)"
        )
    share = n_rows / expected_cells
    return share >= FIRST_RUN_MIN_SHARE, (
        f"first run: {n_rows} rows for {expected_cells} expected cells ({share:.1%}, need >= {FIRST_RUN_MIN_SHARE:.0%})"
    )


def rule_w1(n_rows: np.ndarray, previous_row_counts: list, expected_cells: np.ndarray) -> RuleRows:
    n = len(n_rows)
    verdicts = [_w1(int(r), prev, int(e)) for r, prev, e in zip(n_rows, previous_row_counts, expected_cells)]
    passed, message = ([v[0] for v in verdicts], [v[1] for v in verdicts])
    return counted("W1", np.arange(n), np.full(n, np.nan), np.ones(n), passed, n, message=message, empty="")
