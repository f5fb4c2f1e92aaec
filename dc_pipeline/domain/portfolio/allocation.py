"""Allocation of an improvement-effort budget across a project's brands (SPEC §8).

Each brand's stored Pareto plans (effort E, gain ΔDC; SPEC §6c) plus the do-nothing point give its upper
concave envelope. Effort then goes greedily to the envelope segment with the highest v_b·ΔDC/ΔE until the
budget B is spent, the last segment in part. Because every envelope is concave this maximises Σ v_b·ΔDC_b
over the envelopes exactly (a fractional knapsack). A point inside a segment mixes its two end plans: with
Δ = (1 − f)·Δ_a + f·Δ_b the gain is exactly the interpolated one (ΔDC is linear in Δ) and the effort at most
the interpolated one (effort is convex in Δ), so the envelope point is attainable (the mix may change more
metrics than either plan).

Brand value v_b = project_brands.weight × the brand's share of the member brands' revenue in the latest
period, or × 1/n_brands when revenue is not there for every member brand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NO_CHANGE = -1  # plan id of the do-nothing point (0, 0)
ALLOCATION_COLUMNS = ["brand_id", "status", "reason", "value_weight", "revenue_share", "effort", "share_pct",
                      "delta_dc", "plan_id", "next_plan_id", "fraction_to_next", "knee_plan_id", "knee_effort",
                      "knee_delta_dc", "max_delta_dc", "envelope"]  # fmt: skip


@dataclass(frozen=True)
class Vertex:
    effort: float
    gain: float
    plan_id: int


def upper_concave_envelope(effort, gain, plan_ids) -> list[Vertex]:
    """The vertices of the upper concave envelope of the points plus (0, 0), by effort, up to the largest
    gain: every slope between consecutive vertices is positive and falling."""
    points = sorted(
        {(0.0, 0.0, NO_CHANGE)} | {(float(e), float(g), int(p)) for e, g, p in zip(effort, gain, plan_ids)},
        key=lambda v: (v[0], -v[1], v[2]),
    )
    hull: list[tuple[float, float, int]] = []
    for point in points:
        if hull and point[0] == hull[-1][0]:
            continue  # same effort, lower gain (sorted by gain descending within an effort)
        while len(hull) >= 2:
            (x0, y0, _), (x1, y1, _) = hull[-2], hull[-1]
            if (x1 - x0) * (point[1] - y0) - (y1 - y0) * (point[0] - x0) >= 0:
                hull.pop()  # hull[-1] lies on or below the chord from hull[-2] to the new point
            else:
                break
        hull.append(point)
    top = int(np.argmax([v[1] for v in hull]))
    return [Vertex(*v) for v in hull[: top + 1]]


def value_weights(members: pd.DataFrame, revenue: pd.Series) -> tuple[pd.DataFrame, str]:
    """(brand_id, weight, revenue_share, value_weight) per member, and the basis in words. `revenue`: the
    latest period's revenue by brand_id."""
    frame = members.loc[:, ["brand_id", "weight"]].copy()
    frame["weight"] = frame["weight"].fillna(1.0).astype(float)
    rev = frame["brand_id"].map(revenue).astype(float)
    n = len(frame)
    missing = int(rev.isna().sum())
    if n and not missing and rev.sum() > 0:
        frame["revenue_share"] = rev / rev.sum()
        frame["value_weight"] = frame["weight"] * frame["revenue_share"]
        return frame, "project_brands.weight x revenue share in the latest period"
    frame["revenue_share"] = np.nan
    frame["value_weight"] = frame["weight"] / max(n, 1)
    why = f"revenue missing for {missing} of {n} brands" if missing else "no revenue"
    return frame, f"project_brands.weight x 1/{n}: {why} in the latest period"


def allocate(envelopes: dict[int, list[Vertex]], values: dict[int, float], budget: float) -> dict[int, dict]:
    """brand_id -> {effort, delta_dc, plan_id, next_plan_id, fraction_to_next} spending at most `budget`
    on the segments of highest value-weighted gain per effort unit."""
    segments = []
    for brand_id, vertices in envelopes.items():
        for k, (a, b) in enumerate(zip(vertices, vertices[1:])):
            ratio = values.get(brand_id, 0.0) * (b.gain - a.gain) / (b.effort - a.effort)
            if ratio > 0:
                segments.append((-ratio, brand_id, k, a, b))
    segments.sort(key=lambda s: (s[0], s[1], s[2]))  # a brand's ratios fall along its envelope: order kept
    out = {b: {"effort": 0.0, "delta_dc": 0.0, "plan_id": NO_CHANGE, "next_plan_id": None, "fraction_to_next": 0.0}
           for b in envelopes}  # fmt: skip
    left = float(budget)
    for _, brand_id, _, a, b in segments:
        if left <= 1e-12 * max(1.0, float(budget)):  # spent, up to rounding
            break
        step = b.effort - a.effort
        fraction = 1.0 if left >= step * (1 - 1e-12) else left / step  # a rounding hair is no partial step
        entry = out[brand_id]
        entry["effort"] += fraction * step
        entry["delta_dc"] += fraction * (b.gain - a.gain)
        if fraction < 1.0:
            entry.update(next_plan_id=b.plan_id, fraction_to_next=fraction)
        else:
            entry["plan_id"] = b.plan_id
        left -= fraction * step
    return out


def _plan_status(summaries: pd.DataFrame | None, brand_id: int) -> tuple[str, str | None]:
    if summaries is None or summaries.empty:
        return "missing_input", f"no recommendation summary stored for brand {brand_id}"
    row = summaries[summaries["brand_id"] == brand_id]
    if row.empty:
        return "missing_input", f"no recommendation summary stored for brand {brand_id}"
    return str(row["status"].iloc[0]), row["reason"].iloc[0] if pd.notna(row["reason"].iloc[0]) else None


def effort_allocation(
    members: pd.DataFrame,
    revenue: pd.Series,
    plans: pd.DataFrame | None,
    summaries: pd.DataFrame | None,
    budget: float | None = None,
) -> tuple[pd.DataFrame, dict]:
    """(per-brand allocation rows, summary) of a project. `plans`: the stored brand_recommendation_plans
    (brand_id, plan_id, delta_dc, effort, is_knee); `budget` None: the sum of the knee-plan efforts."""
    weights, basis = value_weights(members, revenue)
    plans = plans if plans is not None else pd.DataFrame(columns=["brand_id", "plan_id", "delta_dc", "effort"])
    envelopes, rows = {}, {}
    for w in weights.itertuples():
        brand_id = int(w.brand_id)
        own = plans[plans["brand_id"] == brand_id]
        status, reason = _plan_status(summaries, brand_id) if own.empty else ("ok", None)
        if own.empty and status == "ok":
            status, reason = "insufficient_data", f"no plans stored for brand {brand_id}"
        knee = own[own["is_knee"].astype(bool)] if "is_knee" in own and len(own) else own.iloc[0:0]
        rows[brand_id] = {"brand_id": brand_id, "status": status, "reason": reason, "value_weight": w.value_weight,
                          "revenue_share": w.revenue_share,
                          "knee_plan_id": int(knee["plan_id"].iloc[0]) if len(knee) else None,
                          "knee_effort": float(knee["effort"].iloc[0]) if len(knee) else np.nan,
                          "knee_delta_dc": float(knee["delta_dc"].iloc[0]) if len(knee) else np.nan,
                          "max_delta_dc": float(own["delta_dc"].max()) if len(own) else np.nan}  # fmt: skip
        if len(own):
            envelopes[brand_id] = upper_concave_envelope(own["effort"], own["delta_dc"], own["plan_id"])
            rows[brand_id]["envelope"] = [[v.effort, v.gain, v.plan_id] for v in envelopes[brand_id]]
    if not envelopes:
        summary = {"status": "missing_input", "reason": "no stored recommendation plans for any member brand: "
                   "materialize brand_recommendations first", "budget": budget, "value_basis": basis}  # fmt: skip
        return pd.DataFrame(list(rows.values())).reindex(columns=ALLOCATION_COLUMNS), summary
    knee_total = float(np.nansum([r["knee_effort"] for r in rows.values()]))
    spend = knee_total if budget is None else float(budget)
    result = allocate(envelopes, dict(zip(weights["brand_id"].astype(int), weights["value_weight"])), spend)
    for brand_id, got in result.items():
        rows[brand_id].update(got, share_pct=100.0 * got["effort"] / spend if spend > 0 else np.nan)
    frame = pd.DataFrame(list(rows.values())).reindex(columns=ALLOCATION_COLUMNS)
    spent = float(frame["effort"].sum())
    v, gain = frame["value_weight"].to_numpy(float), frame["delta_dc"].fillna(0.0).to_numpy(float)
    weighted = float(v @ gain / v.sum()) if v.sum() else np.nan
    summary = {"status": "ok", "reason": None, "budget": spend,
               "budget_source": "sum of knee-plan efforts" if budget is None else "run config effort_budget",
               "spent": spent, "unspent": max(0.0, spend - spent), "value_basis": basis,
               "objective": float(v @ gain), "value_weighted_delta_dc": weighted,
               "n_brands": len(frame), "n_brands_with_plans": len(envelopes),
               "n_brands_allocated": int((frame["effort"] > 0).sum())}  # fmt: skip
    return frame, summary
