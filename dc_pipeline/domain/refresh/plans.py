"""Knee-plan changes between two refreshes of `brand_recommendations`: per brand, the knee plan's ΔDC, effort and
changed metrics the previous materialization stored against the new ones."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dc_pipeline.domain.recommendations.problem import CHANGE_THRESHOLD

PAIR = ["project_id", "brand_id"]
KNEE_FIELDS = ["period", "status", "knee_delta_dc", "knee_effort", "knee_metrics"]
PLAN_HISTORY_COLUMNS = [*PAIR, "previous_run_id", *[f"previous_{f}" for f in KNEE_FIELDS], *KNEE_FIELDS, "change",
                        "changed"]  # fmt: skip
# ΔDC is shown to 1 decimal: a knee moving less than that, on the same metrics, is the same plan to a reader.
DELTA_DC_TOLERANCE = 0.05
EFFORT_RELATIVE_TOLERANCE = 0.01


def knee_plans(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per brand: its latest-period status and knee plan (ΔDC, effort, sorted ids of the metrics it raises by at
    least CHANGE_THRESHOLD); run_id too when the tables carry it."""
    summaries = tables.get("brand_recommendation_summaries", pd.DataFrame())
    plans = tables.get("brand_recommendation_plans", pd.DataFrame())
    extra = ["run_id"] if "run_id" in summaries.columns else []
    if summaries.empty:
        return pd.DataFrame(columns=[*PAIR, *KNEE_FIELDS, *extra])
    out = summaries.loc[:, [*PAIR, "period", "status", *extra]].copy()
    out["period"] = pd.to_datetime(out["period"])
    knees = plans[plans["is_knee"].astype(bool)] if len(plans) else plans
    by_pair = {(int(r.project_id), int(r.brand_id)): r for r in knees.itertuples()}
    rows = [by_pair.get((int(p), int(b))) for p, b in zip(out["project_id"], out["brand_id"])]
    out["knee_delta_dc"] = [None if r is None else float(r.delta_dc) for r in rows]
    out["knee_effort"] = [None if r is None else float(r.effort) for r in rows]
    out["knee_metrics"] = [[] if r is None else _raised(r.metrics) for r in rows]
    return out


def _raised(metrics) -> list[int]:
    return sorted(int(m["metric_id"]) for m in metrics or [] if float(m["delta"]) >= CHANGE_THRESHOLD)


def plan_changes(previous: dict[str, pd.DataFrame], current: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per brand stored before or now (PLAN_HISTORY_COLUMNS); change: same | changed | new | dropped
    (a knee plan now and none before, or the reverse). Empty when nothing was stored before."""
    before = knee_plans(previous)
    if before.empty:
        return pd.DataFrame(columns=PLAN_HISTORY_COLUMNS)
    before = before.rename(columns={**{f: f"previous_{f}" for f in KNEE_FIELDS}, "run_id": "previous_run_id"})
    both = before.merge(knee_plans(current), on=PAIR, how="outer").sort_values(PAIR, ignore_index=True)
    both["change"] = [_change(r) for r in both.to_dict("records")]
    both["changed"] = both["change"] != "same"
    for column in ("knee_metrics", "previous_knee_metrics"):
        both[column] = both[column].map(lambda v: v if isinstance(v, list) else [])
    return both.loc[:, PLAN_HISTORY_COLUMNS]


def _change(r: dict[str, Any]) -> str:
    had, has = pd.notna(r["previous_knee_delta_dc"]), pd.notna(r["knee_delta_dc"])
    if had != has:
        return "new" if has else "dropped"
    if not has:
        return "same"
    moved = abs(r["knee_delta_dc"] - r["previous_knee_delta_dc"]) >= DELTA_DC_TOLERANCE or abs(
        r["knee_effort"] - r["previous_knee_effort"]
    ) >= EFFORT_RELATIVE_TOLERANCE * max(abs(r["previous_knee_effort"]), 1e-9)
    return "changed" if moved or r["knee_metrics"] != r["previous_knee_metrics"] else "same"


def plan_change_text(r: dict[str, Any]) -> str:
    """One brand's knee plan against the last refresh, e.g. 'knee plan changed since the last refresh: ΔDC +2.1 ->
    +3.4, effort 12.0 -> 15.2, metrics raised 3 -> 4'."""
    if r["change"] == "new":
        return f"knee plan new since the last refresh: ΔDC {r['knee_delta_dc']:+.1f}, effort {r['knee_effort']:.1f}"
    if r["change"] == "dropped":
        return f"no knee plan now ({r['status']}); the last refresh had ΔDC {r['previous_knee_delta_dc']:+.1f}"
    if pd.isna(r["knee_delta_dc"]):
        return f"no knee plan, as at the last refresh ({r['status']})"
    verb = "changed" if r["changed"] else "unchanged"
    return (
        f"knee plan {verb} since the last refresh: ΔDC {r['previous_knee_delta_dc']:+.1f} -> {r['knee_delta_dc']:+.1f}"
        f", effort {r['previous_knee_effort']:.1f} -> {r['knee_effort']:.1f}, metrics raised "
        f"{len(r['previous_knee_metrics'])} -> {len(r['knee_metrics'])}"
    )
