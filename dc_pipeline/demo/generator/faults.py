"""The faults planted in the faulty project (SPEC §12 table), one step per fault, with exact counts.

Faults never overlap: each touched cell is reserved, so every count is exactly what a rule
re-counting the rows finds. Out-of-range values are placed on cells already near a bound so that
they do not also create K2 jumps. The steps run in a fixed order on one random stream, so the
planted rows are reproducible from the seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator.projects import Columns, ProjectPlan
from dc_pipeline.demo.generator.spec import (
    FAULTS,
    JUMP_POINTS,
    N_CONFLICT_DUPLICATES,
    N_EXACT_DUPLICATES,
    N_NEGATIVE_REVENUE,
    N_UNKNOWN_METRIC_ROWS,
    N_VALUE_JUMPS,
    OUT_OF_RANGE_SHARE,
    UNKNOWN_METRIC_ID_BASE,
    rng,
)
from dc_pipeline.domain.source_tables import SECTIONS


def plant_faults(
    seed: int,
    plan: ProjectPlan,
    values: Columns,
    outcomes: Columns,
    section_of_metric: np.ndarray,
    dates: pd.DatetimeIndex,
) -> tuple[Columns, Columns, dict[str, Any]]:
    """Every fault of the SPEC §12 table in one project's rows; returns the rows and the exact counts."""
    planter = _FaultPlanter(rng(seed, FAULTS, plan.index), plan, values, outcomes, section_of_metric, dates)
    rows_before = len(planter.v)
    planter.drop_last_periods()
    mislabelled = planter.mislabel_section()
    planter.jump_values()
    n_oor = planter.out_of_range()
    exact_rows, conflict_rows = planter.duplicates()
    unknown_rows = planter.unknown_metrics()
    planter.v = pd.concat([planter.v, exact_rows, conflict_rows, unknown_rows], ignore_index=True)
    planter.faults["section_mismatch"]["rows"] = int((planter.v.metric_id == mislabelled).sum())  # incl. duplicates
    negative = planter.negative_revenue()
    planter.market_share_over_100(avoid=negative)
    v, o = planter.v, planter.o
    planted = {
        "project_id": int(plan.project_id),
        "rows_before_faults": rows_before,
        "rows": len(v),
        "expected_quarantined_rows": n_oor + len(exact_rows) + 2 * len(conflict_rows) + N_UNKNOWN_METRIC_ROWS,
        "faults": planter.faults,
    }
    return ({c: v[c].to_numpy() for c in v.columns}, {c: o[c].to_numpy() for c in o.columns}, planted)


class _FaultPlanter:
    """The project's value rows `v` and outcome rows `o` while faults are planted into them."""

    def __init__(
        self,
        stream: np.random.Generator,
        plan: ProjectPlan,
        values: Columns,
        outcomes: Columns,
        section_of_metric: np.ndarray,
        dates: pd.DatetimeIndex,
    ) -> None:
        self.rng = stream
        self.plan = plan
        self.v = pd.DataFrame(values)
        self.o = pd.DataFrame(outcomes)
        self.section_of_metric = section_of_metric
        self.dates = dates
        self.t_first = int(plan.t_global[0])
        self.t_last = self.t_first + plan.k - 1
        self.reserved = np.zeros(len(self.v), dtype=bool)  # rows a fault already uses (after the drop)
        self.faults: dict[str, Any] = {}

    def _day(self, t: int) -> str:
        return self.dates[t].strftime("%Y-%m-%d")

    def _key(self, row: Any) -> dict[str, Any]:
        return {"brand_id": int(row.brand_id), "metric_id": int(row.metric_id), "period": self._day(int(row.t))}

    def drop_last_periods(self) -> None:
        """C1, T1: one brand (the last member: a competitor when there are several) loses its last 2 periods."""
        v = self.v
        lost_brand = int(self.plan.brand_ids[-1])
        lost = [self.t_last - 1, self.t_last]
        drop = (v.brand_id == lost_brand) & v.t.isin(lost)
        self.faults["brand_missing_last_periods"] = {
            "count": 1,
            "brand_id": lost_brand,
            "periods": [self._day(t) for t in lost],
            "rows_removed": int(drop.sum()),
        }
        self.v = v[~drop].reset_index(drop=True)
        self.reserved = np.zeros(len(self.v), dtype=bool)

    def mislabel_section(self) -> int:
        """K1: every row of one metric carries another section's label. Returns that metric's id."""
        metric_ids = self.plan.metric_ids
        m = int(self.rng.integers(len(metric_ids)))
        wrong = (int(self.section_of_metric[m]) + 1) % len(SECTIONS)
        labelled = self.v.metric_id == metric_ids[m]
        self.v.loc[labelled, "section"] = wrong
        self.faults["section_mismatch"] = {
            "count": 1,
            "metric_id": int(metric_ids[m]),
            "section_name": SECTIONS[self.section_of_metric[m]],
            "labelled_section": SECTIONS[wrong],
            "rows": int(labelled.sum()),
        }
        return int(metric_ids[m])

    def jump_values(self) -> None:
        """K2: jumps of 50 points on the last period of series whose previous period is present
        (on the last period a jump is counted once: no following period jumps back)."""
        v = self.v
        last = v[v.t == self.t_last].reset_index()
        prev = v[v.t == self.t_last - 1].reset_index()[["index", "brand_id", "metric_id", "normalized_value"]]
        pairs = last.merge(prev, on=["brand_id", "metric_id"], suffixes=("", "_prev"))
        pick = pairs.iloc[np.sort(self.rng.choice(len(pairs), min(N_VALUE_JUMPS, len(pairs)), replace=False))]
        before = pick.normalized_value_prev.to_numpy()
        jumped = np.round(np.where(before <= 50, before + JUMP_POINTS, before - JUMP_POINTS), 2)
        v.loc[pick["index"].to_numpy(), "normalized_value"] = jumped
        self.reserved[pick["index"].to_numpy()] = True
        self.reserved[pick["index_prev"].to_numpy()] = True
        self.faults["value_jumps"] = {
            "count": len(pick),
            "points": JUMP_POINTS,
            "keys": [
                {**self._key(r), "previous": float(b), "value": float(j)}
                for r, b, j in zip(pick.itertuples(), before, jumped)
            ],
        }

    def out_of_range(self) -> int:
        """V1: values outside [0, 100] on cells within a few points of a bound. Returns their count."""
        v = self.v
        n_oor = max(1, int(round(OUT_OF_RANGE_SHARE * len(v))))
        free = np.flatnonzero(~self.reserved)
        value = v.normalized_value.to_numpy()
        distance = np.minimum(value[free], 100 - value[free])
        nearest = free[np.argsort(distance, kind="stable")[: 4 * n_oor]]
        oor = np.sort(self.rng.choice(nearest, n_oor, replace=False))
        beyond = np.round(self.rng.uniform(0.5, 5.0, n_oor), 1)
        v.loc[oor, "normalized_value"] = np.where(value[oor] >= 50, 100 + beyond, -beyond)
        self.reserved[oor] = True
        self.faults["out_of_range_values"] = {"count": n_oor, "keys": [self._key(r) for r in v.loc[oor].itertuples()]}
        return n_oor

    def duplicates(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """U1: exact and conflicting duplicate rows, to be appended after the originals (higher ids)."""
        v = self.v
        n = N_EXACT_DUPLICATES + N_CONFLICT_DUPLICATES
        dup = self.rng.choice(np.flatnonzero(~self.reserved), n, replace=False)
        exact, conflict = np.sort(dup[:N_EXACT_DUPLICATES]), np.sort(dup[N_EXACT_DUPLICATES:])
        exact_rows = v.loc[exact].copy()
        conflict_rows = v.loc[conflict].copy()
        delta = self.rng.uniform(1.0, 5.0, len(conflict))
        base = conflict_rows.normalized_value.to_numpy()
        conflict_rows["normalized_value"] = np.round(np.where(base + delta <= 100, base + delta, base - delta), 2)
        self.faults["duplicate_exact"] = {"count": len(exact), "keys": [self._key(r) for r in exact_rows.itertuples()]}
        self.faults["duplicate_conflict"] = {
            "count": len(conflict),
            "keys": [self._key(r) for r in conflict_rows.itertuples()],
        }
        return exact_rows, conflict_rows

    def unknown_metrics(self) -> pd.DataFrame:
        """V2: rows of metric ids that exist nowhere, on member brands and covered periods."""
        brand_ids = self.plan.brand_ids
        keep_brands = brand_ids[:-1] if len(brand_ids) > 1 else brand_ids
        unknown_ids = UNKNOWN_METRIC_ID_BASE + 1 + np.arange(N_UNKNOWN_METRIC_ROWS)
        rows = pd.DataFrame(
            dict(
                project_id=self.plan.project_id,
                brand_id=self.rng.choice(keep_brands, N_UNKNOWN_METRIC_ROWS),
                metric_id=unknown_ids,
                t=self.rng.integers(self.t_first, self.t_last + 1, N_UNKNOWN_METRIC_ROWS),
                normalized_value=np.round(self.rng.uniform(20, 80, N_UNKNOWN_METRIC_ROWS), 2),
                section=-1,
            )
        )
        self.faults["unknown_metric_rows"] = {"count": N_UNKNOWN_METRIC_ROWS, "metric_ids": unknown_ids.tolist()}
        return rows

    def negative_revenue(self) -> np.ndarray:
        """V5: negative revenue cells. Returns their outcome row indices."""
        o = self.o
        finite = np.flatnonzero(np.isfinite(o.revenue.to_numpy()))
        neg = np.sort(self.rng.choice(finite, N_NEGATIVE_REVENUE, replace=False))
        o.loc[neg, "revenue"] = -o.loc[neg, "revenue"]
        self.faults["negative_revenue"] = {
            "count": len(neg),
            "keys": [{"brand_id": int(r.brand_id), "period": self._day(int(r.t))} for r in o.loc[neg].itertuples()],
        }
        return neg

    def market_share_over_100(self, avoid: np.ndarray) -> None:
        """K5: one period whose market shares sum above 100, not a period of the `avoid` rows when possible."""
        o = self.o
        periods = np.arange(self.t_first, self.t_last + 1)
        spare = np.setdiff1d(periods, o.t.to_numpy()[avoid]) if self.plan.k > len(avoid) else periods
        t_over = int(self.rng.choice(spare))
        in_period = (o.t == t_over).to_numpy()
        target = self.rng.uniform(108.0, 125.0)
        shares = o.loc[in_period, "market_share"]
        o.loc[in_period, "market_share"] = np.round(np.minimum(shares * target / shares.sum(), 100.0), 3)
        share_sum = round(float(o.loc[in_period, "market_share"].sum()), 3)
        over = share_sum > 100.5  # impossible with one brand: its share would exceed 100
        self.faults["market_share_over_100"] = {
            "count": int(over),
            "periods": [self._day(t_over)] if over else [],
            "share_sum": share_sum,
        }
