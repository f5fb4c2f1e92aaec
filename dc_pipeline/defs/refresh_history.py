"""Refresh stability (beyond the SPEC), recorded where a partition is rewritten: the IO manager calls
`record_refresh` in the transaction that replaces a partition of `dc_scores` or `brand_recommendations`.

Why there and not in the asset: the previous materialization is exactly the rows this transaction deletes (read
under a per-partition advisory lock, so a concurrent writer of the same partition waits and then compares against
what this one wrote), and the history row commits or rolls back with the rewrite it describes. An asset reading the
old rows at the start of its step could compare against rows another run replaced meanwhile, or record a change
whose write then failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from dc_pipeline.adapters import postgres, readers
from dc_pipeline.adapters.store import REFRESH_HISTORY
from dc_pipeline.domain.refresh.plans import plan_change_text, plan_changes
from dc_pipeline.domain.refresh.ranks import rank_changes, rank_churn


@dataclass(frozen=True)
class Refresh:
    """What one rewrite recorded: the history rows and a churn sentence per partition (project id or pair)."""

    rows: pd.DataFrame
    churn: dict[int | tuple[int, int], str]


def _ranks(previous: dict[str, pd.DataFrame], current: dict[str, pd.DataFrame], names) -> Refresh:
    changes = rank_changes(previous["dc_scores"], current["dc_scores"])
    return Refresh(changes, {p: s["text"] for p, s in rank_churn(changes, names).items()})


def _plans(previous: dict[str, pd.DataFrame], current: dict[str, pd.DataFrame], names) -> Refresh:
    changes = plan_changes(previous, current)
    churn = {(int(r["project_id"]), int(r["brand_id"])): plan_change_text(r) for r in changes.to_dict("records")}
    return Refresh(changes, churn)


COMPARE: dict[str, Callable[..., Refresh]] = {"dc_scores": _ranks, "brand_recommendations": _plans}


def record_refresh(
    conn, asset: str, frames: dict[str, pd.DataFrame], where: dict[str, list[int]], run_id: str, version: str
) -> Refresh | None:
    """Compares the rows about to be replaced with `frames` and appends the changes to the asset's history, tagged
    with this run, the run that wrote the old rows and `version` (the data version of the new rows). None for an
    asset without history or a partition written for the first time."""
    if asset not in REFRESH_HISTORY or not where:
        return None
    postgres.lock_for_transaction(conn, [f"{asset}/p{p}" for p in where["project_id"]])
    previous = readers.read_partition_rows(conn, asset, where)
    if all(frame.empty for frame in previous.values()):
        return None
    refresh = COMPARE[asset](previous, frames, readers.read_brand_names(conn))
    postgres.append_rows(
        conn,
        REFRESH_HISTORY[asset].table,
        refresh.rows,
        {"run_id": run_id, "data_version": version, "recorded_at": pd.Timestamp(datetime.now(UTC))},
    )
    return refresh
