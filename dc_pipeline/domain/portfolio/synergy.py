"""Synergy, complementarity and transfer pairs between a project's brands (SPEC §8).

- Synergy (co-movement): Pearson r of the first differences of DC and of each section, for pairs with at
  least MIN_SYNERGY_PERIODS common periods. Differences of a noisy level are serially correlated (white noise
  gives lag-1 autocorrelation -0.5), which makes the plain Pearson p too small (11 % false co-movement at 36
  periods by simulation), so p uses the effective sample size of Pyper & Peterman (1998),
  1/N* = 1/N + (2/N) Σ_j (N−j)/N r_a(j) r_b(j) over lags j <= N/5, capped at N (at most 5 % false
  co-movement in simulations at 6-36 periods, AR(1) phi 0 to 0.9). A project with n brands tests n(n−1)/2
  pairs per measure, so the labels use Holm-adjusted p values over the pairs of each measure: `co_moving`
  (r ≥ 0.5 and adjusted p < alpha), `counter_moving` (r ≤ −0.5 and adjusted p < alpha), else `independent`.
- Complementarity (any period count, latest period): (|S1∩W2| + |S2∩W1|) / |S1∪S2∪W1∪W2| with S the
  sections at or above the cohort's p75 and W those at or below its p25.
- Transfer pairs (latest period): (leader, laggard, section) where the leader's section score exceeds the
  laggard's by at least TRANSFER_GAP points."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from dc_pipeline.domain.portfolio.cohort import strength_weakness
from dc_pipeline.domain.portfolio.comparison import MEASURES
from dc_pipeline.domain.portfolio.series import autocorrelation, pair_groups
from dc_pipeline.domain.reports.blocks.multiplicity import holm_adjusted
from dc_pipeline.domain.source_tables import SECTIONS

MIN_SYNERGY_PERIODS = 6
CO_MOVING_R = 0.5
TRANSFER_GAP = 15.0
NO_LABELS = "neither brand has a section at or above the cohort p75 or at or below its p25"
PLURAL = {"strength": "strengths", "weakness": "weaknesses"}
SYNERGY_COLUMNS = [
    "brand_a",
    "brand_b",
    "measure",
    "n_common_periods",
    "n_differences",
    "n_effective",
    "r",
    "p_naive",
    "p",
    "p_holm",
    "label",
    "status",
    "reason",
]
COMPLEMENTARITY_COLUMNS = [
    "brand_a",
    "brand_b",
    "period",
    "strengths_a",
    "weaknesses_a",
    "strengths_b",
    "weaknesses_b",
    "complementarity",
    "reason",
]
TRANSFER_COLUMNS = ["period", "section", "leader_brand_id", "laggard_brand_id", "leader_score", "laggard_score", "gap"]


def _differences(panel: pd.DataFrame, measure: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(levels, first differences) wide by brand, on the period number t; a difference across a gap in a
    brand's series is missing, so only consecutive periods are differenced."""
    wide = panel.pivot_table(index="t", columns="brand_id", values=measure, aggfunc="first")
    wide = wide.reindex(np.arange(wide.index.min(), wide.index.max() + 1)) if len(wide) else wide
    return wide, wide.diff()


def effective_correlation(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """Per row pair of a and b (pairs x periods): Pearson r, the p value of its effective sample size N*
    (Pyper & Peterman 1998, see the module docstring) and the plain p for reference."""
    n = a.shape[1]
    ca, cb = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    r = np.einsum("ij,ij->i", ca, cb) / np.sqrt(np.einsum("ij,ij->i", ca, ca) * np.einsum("ij,ij->i", cb, cb))
    r = np.clip(r, -1.0, 1.0)
    lags = range(1, max(1, n // 5) + 1)
    inverse = 1 / n + (2 / n) * sum((n - j) / n * autocorrelation(a, j) * autocorrelation(b, j) for j in lags)
    n_eff = np.where(inverse > 0, np.clip(1 / np.where(inverse > 0, inverse, 1.0), 3.0, n), float(n))
    t = lambda df: np.abs(r) * np.sqrt(df / np.maximum(1e-12, 1 - r * r))  # noqa: E731
    return {
        "r": r,
        "p": 2 * stats.t.sf(t(n_eff - 2), n_eff - 2),
        "p_naive": 2 * stats.t.sf(t(n - 2), n - 2),
        "n_effective": n_eff,
    }


def synergy(panel: pd.DataFrame, alpha: float, min_periods: int = MIN_SYNERGY_PERIODS) -> pd.DataFrame:
    """One row per (brand pair, measure); `panel` has brand_id, t (period number) and the MEASURES."""
    frames = []
    for measure in MEASURES:
        if panel[measure].notna().sum() == 0:
            continue
        levels, diffs = _differences(panel, measure)
        brands, level, diff = np.array(levels.columns, dtype=int), levels.to_numpy(float), diffs.to_numpy(float)
        common = (~np.isnan(level)).astype(int)
        n_common = common.T @ common  # brand x brand count of periods both have
        for ia, ib, mask in pair_groups(diff, min_rows=0):
            n = int(mask.sum())
            out = pd.DataFrame(
                {
                    "brand_a": brands[ia],
                    "brand_b": brands[ib],
                    "measure": measure,
                    "n_common_periods": n_common[ia, ib],
                    "n_differences": n,
                }
            )
            a, b = diff[mask][:, ia].T, diff[mask][:, ib].T
            varied = (np.ptp(a, axis=1) > 0) & (np.ptp(b, axis=1) > 0) if n else np.zeros(len(ia), dtype=bool)
            enough = out["n_common_periods"].to_numpy() >= min_periods
            usable = enough & varied & (n >= 3)
            out["status"] = np.where(usable, "ok", "insufficient_data")
            out["reason"] = np.where(
                ~enough,
                [f"insufficient history: {c} common periods, {min_periods} needed" for c in out["n_common_periods"]],
                f"no usable co-movement: {n} paired changes, 3 with variation needed",
            )
            out.loc[usable, "reason"] = None
            if usable.any():
                for name, value in effective_correlation(a[usable], b[usable]).items():
                    out.loc[usable, name] = value
            frames.append(out)
    # Pairs never observed together (no common difference) still get their row, with the reason.
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SYNERGY_COLUMNS)
    out = out.reindex(columns=SYNERGY_COLUMNS).sort_values(["measure", "brand_a", "brand_b"], ignore_index=True)
    out["p_holm"] = np.nan
    for idx in out[out["status"] == "ok"].groupby("measure").groups.values():
        out.loc[idx, "p_holm"] = holm_adjusted(out.loc[idx, "p"])
    significant = out["p_holm"] < alpha
    label = np.where(
        significant & (out["r"] >= CO_MOVING_R),
        "co_moving",
        np.where(significant & (out["r"] <= -CO_MOVING_R), "counter_moving", "independent"),
    )
    out["label"] = pd.Series(label, index=out.index).where(out["status"] == "ok", None)
    return out.loc[:, SYNERGY_COLUMNS]


def section_labels(latest: pd.DataFrame) -> dict[int, dict[str, set[str]]]:
    """brand_id -> {'strengths': sections >= the cohort's p75, 'weaknesses': sections <= its p25}."""
    labels = {int(b): {"strengths": set(), "weaknesses": set()} for b in latest["brand_id"]}
    frame = latest.set_index("brand_id")
    for section in SECTIONS:
        for brand_id, label in strength_weakness(frame[section]).dropna().items():
            if label in PLURAL:
                labels[int(brand_id)][PLURAL[label]].add(section)
    return labels


def complementarity(latest: pd.DataFrame) -> pd.DataFrame:
    """One row per brand pair of the latest period (`latest`: brand_id, period and the SECTIONS)."""
    labels = section_labels(latest)
    period = latest["period"].max() if len(latest) else pd.NaT
    rows = []
    for a, b in combinations(sorted(labels), 2):
        s1, w1, s2, w2 = (
            labels[a]["strengths"],
            labels[a]["weaknesses"],
            labels[b]["strengths"],
            labels[b]["weaknesses"],
        )
        union = s1 | s2 | w1 | w2
        value = (len(s1 & w2) + len(s2 & w1)) / len(union) if union else np.nan
        rows.append(
            {
                "brand_a": a,
                "brand_b": b,
                "period": period,
                "strengths_a": sorted(s1),
                "weaknesses_a": sorted(w1),
                "strengths_b": sorted(s2),
                "weaknesses_b": sorted(w2),
                "complementarity": value,
                "reason": None if union else NO_LABELS,
            }
        )
    return pd.DataFrame(rows, columns=COMPLEMENTARITY_COLUMNS)


def transfer_pairs(latest: pd.DataFrame, min_gap: float = TRANSFER_GAP) -> pd.DataFrame:
    """Every (leader, laggard, section) of the latest period whose section scores differ by >= min_gap."""
    period = latest["period"].max() if len(latest) else pd.NaT
    rows = []
    for section in SECTIONS:
        scores = latest.set_index("brand_id")[section].dropna()
        for lead, lag in ((x, y) for x in scores.index for y in scores.index if x != y):
            gap = float(scores[lead] - scores[lag])
            if gap >= min_gap:
                rows.append(
                    {
                        "period": period,
                        "section": section,
                        "leader_brand_id": int(lead),
                        "laggard_brand_id": int(lag),
                        "leader_score": float(scores[lead]),
                        "laggard_score": float(scores[lag]),
                        "gap": gap,
                    }
                )
    out = pd.DataFrame(rows, columns=TRANSFER_COLUMNS)
    return out.sort_values(["gap", "section"], ascending=[False, True], ignore_index=True)
