"""Refresh churn in a report (beyond the SPEC): how the ranks of the project's latest period moved between the
materialization of `dc_scores` the report reads and the one before it, from the rank history that refresh
recorded (domain/refresh/ranks.py), with the insight that quotes it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dc_pipeline.domain.refresh.ranks import rank_churn
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.insights import cite, insight


def refresh_churn(ctx: ReportContext, _: dict) -> dict[str, Any]:
    history = ctx.data.refresh
    members = set(ctx.names)
    rows = None if history is None or history.empty else history[history["project_id"] == ctx.project_id]
    rows = None if rows is None else rows[rows["brand_id"].isin(members)]
    if rows is None or rows.empty:
        return unavailable_block(
            "missing_input",
            f"no earlier refresh of dc_scores p{ctx.project_id} to compare with: the stored scores are its first "
            "materialization",
            0,
            1,
        )
    summary = rank_churn(rows, ctx.names)[ctx.project_id]
    latest = rows[rows["period"] == rows["period"].max()].sort_values("brand_id")
    return ok_block(
        **{k: v for k, v in summary.items() if k != "text"},
        share_changed=summary["n_changed"] / summary["n_brands"] if summary["n_brands"] else None,
        run_id=str(latest["run_id"].iloc[0]),
        recorded_at=pd.Timestamp(latest["recorded_at"].iloc[0]).isoformat(),
        brands={
            str(r.brand_id): {
                "brand_id": int(r.brand_id),
                "brand_name": ctx.name(r.brand_id),
                "previous_rank": None if pd.isna(r.previous_rank) else int(r.previous_rank),
                "rank": None if pd.isna(r.rank) else int(r.rank),
                "rank_move": None if pd.isna(r.rank_move) else int(r.rank_move),
                "previous_dc_score": None if pd.isna(r.previous_dc_score) else float(r.previous_dc_score),
                "dc_score": None if pd.isna(r.dc_score) else float(r.dc_score),
                "change": r.change,
            }
            for r in latest.itertuples()
        },
    )


def refresh_churn_insight(root: dict) -> dict[str, Any] | None:
    """'2 of 5 brands changed rank in 2024-12-01 since the last refresh; the largest move is Brand D, 3 -> 1.'"""
    path = "/analysis/refresh_churn"
    block = root["analysis"].get("refresh_churn")
    if not is_ok(block) or not block["n_brands"]:
        return None
    figures = [
        cite(root, "changed", f"{path}/n_changed", 0),
        cite(root, "n", f"{path}/n_brands", 0),
        cite(root, "period", f"{path}/period"),
    ]
    text = "{changed} of {n} brands changed rank in {period} since the last refresh of the scores"
    if block["largest_move"]:
        m = f"{path}/largest_move"
        figures += [
            cite(root, "brand", f"{m}/brand_name"),
            cite(root, "before", f"{m}/previous_rank", 0),
            cite(root, "after", f"{m}/rank", 0),
        ]
        text += "; the largest move is {brand}, rank {before} -> {after}"
    # A refresh that reorders brands matters to whoever acted on the last ranking: the share that moved is the size.
    return insight("", text + ".", figures, block["share_changed"] or 0.01)
