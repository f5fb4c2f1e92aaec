"""Rank changes between two refreshes of `dc_scores`: per brand-period, the rank and DC the previous
materialization of the partition stored against the new ones, and the churn of the partition's latest period
("2 of 5 brands changed rank since the last refresh; largest move Brand D 3 -> 1")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

KEY = ["project_id", "brand_id", "period"]
RANK_HISTORY_COLUMNS = [*KEY, "previous_run_id", "previous_rank", "rank", "previous_dc_score", "dc_score",
                        "rank_move", "change", "changed"]  # fmt: skip


def _ranked(frame: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    out = frame.loc[:, [*KEY, "rank", "dc_score", *extra]].copy()
    out["period"] = pd.to_datetime(out["period"])
    out[["project_id", "brand_id"]] = out[["project_id", "brand_id"]].astype("int64")
    out["rank"] = pd.to_numeric(out["rank"]).astype("Int64")
    out["dc_score"] = pd.to_numeric(out["dc_score"]).astype(float)
    return out


def rank_changes(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """One row per brand-period stored before or now (RANK_HISTORY_COLUMNS); `previous` carries the run_id that
    wrote it. change: same | up | down | new (ranked now, not before) | dropped (ranked before, not now);
    rank_move = previous rank - rank, positive when the brand moved up. Empty when nothing was stored before."""
    if previous.empty:
        return pd.DataFrame(columns=RANK_HISTORY_COLUMNS)
    before = _ranked(previous, ["run_id"]).rename(
        columns={"rank": "previous_rank", "dc_score": "previous_dc_score", "run_id": "previous_run_id"}
    )
    both = before.merge(_ranked(current, []), on=KEY, how="outer").sort_values(KEY, ignore_index=True)
    had, has = both["previous_rank"].notna(), both["rank"].notna()
    move = (both["previous_rank"] - both["rank"]).astype("Int64")
    both["rank_move"] = move
    both["change"] = np.select(
        [had & has & (move > 0), had & has & (move < 0), ~had & has, had & ~has],
        ["up", "down", "new", "dropped"],
        "same",
    )
    both["changed"] = both["change"] != "same"
    # A brand-period stored only now has no previous run; its partition's previous run is the one it replaced.
    both["previous_run_id"] = both.groupby("project_id")["previous_run_id"].transform(lambda s: s.ffill().bfill())
    return both.loc[:, RANK_HISTORY_COLUMNS]


def rank_churn(changes: pd.DataFrame, names: dict[int, str]) -> dict[int, dict[str, Any]]:
    """Per project: the churn of its latest period (brands ranked both times, how many moved, the largest move)
    and over all its brand-periods, with a sentence citing those numbers."""
    out: dict[int, dict[str, Any]] = {}
    for project_id, rows in changes.groupby("project_id", sort=True):
        period = rows["period"].max()
        latest = rows[rows["period"] == period]
        compared = latest[latest["previous_rank"].notna() & latest["rank"].notna()]
        moved = compared[compared["rank_move"] != 0]
        largest = None
        if len(moved):
            top = moved.assign(size=moved["rank_move"].abs()).sort_values(["size", "brand_id"], ascending=[False, True])
            r = top.iloc[0]
            largest = {
                "brand_id": int(r["brand_id"]),
                "brand_name": names.get(int(r["brand_id"]), f"b{int(r['brand_id'])}"),
                "previous_rank": int(r["previous_rank"]),
                "rank": int(r["rank"]),
                "rank_move": int(r["rank_move"]),
            }
        summary = {
            "period": pd.Timestamp(period).date().isoformat(),
            "previous_run_id": _first(latest["previous_run_id"]),
            "n_brands": int(len(compared)),
            "n_changed": int(len(moved)),
            "n_new": int((latest["change"] == "new").sum()),
            "n_dropped": int((latest["change"] == "dropped").sum()),
            "largest_move": largest,
            "n_periods": int(rows["period"].nunique()),
            "n_brand_periods": int(len(rows)),
            "n_brand_periods_changed": int(rows["changed"].sum()),
        }
        out[int(project_id)] = {**summary, "text": churn_sentence(summary)}
    return out


def churn_sentence(s: dict[str, Any]) -> str:
    text = f"{s['n_changed']} of {s['n_brands']} brands changed rank in {s['period']} since the last refresh"
    if s["largest_move"]:
        m = s["largest_move"]
        text += f"; largest move {m['brand_name']} {m['previous_rank']} -> {m['rank']}"
    extra = [f"{s[k]} {label}" for k, label in (("n_new", "newly ranked"), ("n_dropped", "no longer ranked")) if s[k]]
    if s["n_periods"] > 1:
        extra.append(f"{s['n_brand_periods_changed']} of {s['n_brand_periods']} brand-periods changed over all periods")
    return text + (f" ({', '.join(extra)})" if extra else "")


def _first(values: pd.Series) -> str | None:
    present = values.dropna()
    return None if present.empty else str(present.iloc[0])
