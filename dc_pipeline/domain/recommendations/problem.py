"""The decision problem of SPEC §6c, built from one brand's latest-period metric rows.

Genes are the uplifts Δ_m ∈ [0, U_m] with U_m = u_m − s_m = min(100, s_m + max_uplift_points) − s_m.
Every evaluation is vectorised over a population matrix of shape (P, M).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from dc_pipeline.domain.recommendations.effort import effort
from dc_pipeline.domain.settings import OptimizerConfig

METRIC_ROW_COLUMNS = (
    "metric_id",
    "metric_name",
    "section_name",
    "platform_name",
    "directed_score",
    "effective_weight",
    "effort_cost",
    "best_score",
)
CHANGE_THRESHOLD = 0.5  # a metric counts as changed when Δ >= 0.5 points (SPEC §6c)


@dataclass(frozen=True)
class DecisionProblem:
    metrics: pd.DataFrame  # decision metrics in gene order (METRIC_ROW_COLUMNS, index 0..M-1)
    score: np.ndarray  # s_m, current directed score
    weight: np.ndarray  # e_m, effective weight
    cost: np.ndarray  # c_m, effort cost per point
    headroom: np.ndarray  # max(0, best_m − s_m): points available before the cohort-best surcharge
    upper: np.ndarray  # U_m, largest allowed Δ_m
    max_changed: int  # K

    @cached_property
    def labels(self) -> list[dict]:
        """Each gene's metric_id, metric_name, section_name and platform_name as plain values, read from the
        frame once: every plan lists them (pandas' per-cell access was most of the plans' build time)."""
        meta = self.metrics
        return [
            {"metric_id": _plain(meta.at[m, "metric_id"])}
            | {col: meta.at[m, col] for col in ("metric_name", "section_name", "platform_name")}
            for m in range(self.n_metrics)
        ]

    @property
    def n_metrics(self) -> int:
        return int(self.score.size)

    def gain_per_metric(self, delta: np.ndarray) -> np.ndarray:
        return np.asarray(delta, dtype=float) * self.weight

    def gain(self, delta: np.ndarray) -> np.ndarray:
        """ΔDC = Σ e_m Δ_m (exact: the DC score is linear in the directed scores)."""
        return self.gain_per_metric(delta).sum(axis=-1)

    def effort_per_metric(self, delta: np.ndarray) -> np.ndarray:
        """c_m(Δ + Δ²/(101 − s)) + c_m·max(0, t − max(s, best)); t − max(s, best) = Δ − headroom."""
        return effort(self.score, delta, self.cost, self.score + self.headroom)

    def effort(self, delta: np.ndarray) -> np.ndarray:
        return self.effort_per_metric(delta).sum(axis=-1)

    def evaluate(self, population: np.ndarray) -> np.ndarray:
        """Objectives to minimise, shape (P, 2): (−ΔDC, E)."""
        return np.column_stack([-self.gain(population), self.effort(population)])

    @property
    def max_gain(self) -> float:
        return float(self.gain(self.upper))

    @property
    def reference_effort(self) -> float:
        """Hypervolume reference effort: every gene at its bound u_m (SPEC §6c)."""
        return float(self.effort(self.upper))


@dataclass(frozen=True)
class ProblemBuild:
    problem: DecisionProblem | None
    excluded: dict[str, int]  # reason -> number of metrics left out of the decision


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def missing_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in METRIC_ROW_COLUMNS if c not in rows.columns]


def build_problem(rows: pd.DataFrame, config: OptimizerConfig) -> ProblemBuild:
    """Keep metrics that can move the DC score: finite s in [0, 100], e > 0, c > 0 and room to rise."""
    frame = rows.loc[:, list(METRIC_ROW_COLUMNS)].copy()
    s = pd.to_numeric(frame["directed_score"], errors="coerce").to_numpy(dtype=float)
    e = pd.to_numeric(frame["effective_weight"], errors="coerce").to_numpy(dtype=float)
    c = pd.to_numeric(frame["effort_cost"], errors="coerce").to_numpy(dtype=float)
    best = pd.to_numeric(frame["best_score"], errors="coerce").to_numpy(dtype=float)

    bad_score = ~np.isfinite(s) | (s < 0) | (s > 100)
    bad_weight = ~bad_score & ~(np.isfinite(e) & (e > 0))
    bad_cost = ~bad_score & ~bad_weight & ~(np.isfinite(c) & (c > 0))
    at_ceiling = ~bad_score & ~bad_weight & ~bad_cost & (s >= 100)
    keep = ~(bad_score | bad_weight | bad_cost | at_ceiling)
    excluded = {
        "directed score missing or outside [0, 100]": int(bad_score.sum()),
        "effective weight not positive": int(bad_weight.sum()),
        "effort cost not positive": int(bad_cost.sum()),
        "already at 100": int(at_ceiling.sum()),
    }
    excluded = {k: v for k, v in excluded.items() if v}
    if not keep.any():
        return ProblemBuild(None, excluded)

    s, e, c, best = s[keep], e[keep], c[keep], best[keep]
    # A missing cohort best means the brand is its own cohort: the surcharge starts at s_m.
    best = np.where(np.isfinite(best), np.maximum(best, s), s)
    upper = np.minimum(100.0, s + float(config.max_uplift_points)) - s
    problem = DecisionProblem(
        metrics=frame.loc[keep].reset_index(drop=True),
        score=s,
        weight=e,
        cost=c,
        headroom=best - s,
        upper=upper,
        max_changed=int(config.max_metrics_changed),
    )
    return ProblemBuild(problem, excluded)
