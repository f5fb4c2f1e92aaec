"""Cross-project brand evolution (SPEC §8): a brand's DC and sections across the projects it belongs to,
ordered by period, with the metric-framework Jaccard check and the exact split of each DC change into a
value effect and a weight/mix effect.

Each project is represented by the brand's latest scored period in it. With e and s the effective weights
and directed scores of the earlier project and e', s' those of the later one (metrics matched on
(section, platform, metric_name), e = 0 where a metric is absent):
    ΔDC = Σ e_m (s'_m − s_m)  [value effect]  +  Σ (e'_m − e_m) s'_m  [weight/mix effect],
exact because DC = Σ e_m s_m in both projects. For a metric the later project lacks, s'_m is taken as s_m
(e'_m = 0, so its whole contribution leaves through the mix effect) and the identity still holds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.json_values import json_columns
from dc_pipeline.domain.portfolio.tables import EVOLUTION_TABLES
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.source_tables import SECTIONS

MIN_JACCARD = 0.7
METRIC_KEY = ["section_name", "platform_name", "metric_name"]
EVOLUTION_COLUMNS = ["brand_id", "from_project", "to_project", "from_period", "to_period", "from_series_group",
                     "to_series_group", "jaccard", "n_metrics_common", "status", "reason", "dc_from", "dc_to",
                     "delta_dc", "value_effect", "mix_effect", "section_deltas", "value_effect_by_section",
                     "mix_effect_by_section"]  # fmt: skip
RANKING_COLUMNS = ["brand_id", "project_id", "series_group", "n_periods", "mean_dc", "rank", "n_projects",
                   "consistency_across_projects"]  # fmt: skip


def framework(metrics: pd.DataFrame, project_id: int) -> frozenset[tuple[str, str, str]]:
    """The project's active metric framework: its (section, platform, metric_name) triples."""
    own = metrics[metrics["project_id"] == project_id]
    if "is_active" in own.columns:
        own = own[own["is_active"].fillna(True).astype(bool)]
    return frozenset(own.loc[:, METRIC_KEY].itertuples(index=False, name=None))


def jaccard(a: frozenset, b: frozenset) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def not_comparable_reason(value: float) -> str:
    return f"framework changed (Jaccard {value:.2f}): scores not comparable"


def value_mix_split(before: pd.DataFrame, after: pd.DataFrame) -> dict:
    """The exact split of Σ e'·s' − Σ e·s. `before` / `after`: one row per metric with METRIC_KEY,
    effective_weight and directed_score (a metric without a value carries no weight)."""

    def side(frame: pd.DataFrame) -> dict[tuple, tuple[float, float]]:
        f = frame.dropna(subset=["directed_score"])
        weights = f["effective_weight"].fillna(0.0).to_numpy(float)
        keys = zip(*(f[c] for c in METRIC_KEY))
        return {k: (e, s) for k, e, s in zip(keys, weights, f["directed_score"].to_numpy(float))}

    old, new = side(before), side(after)
    keys = sorted(old.keys() | new.keys())
    e0 = np.array([old.get(k, (0.0, np.nan))[0] for k in keys])
    e1 = np.array([new.get(k, (0.0, np.nan))[0] for k in keys])
    s0 = np.array([old[k][1] if k in old else new[k][1] for k in keys])  # absent before: e0 = 0, value term 0
    s1 = np.array([new[k][1] if k in new else old[k][1] for k in keys])  # absent after: weight leaves via mix
    value, mix = e0 * (s1 - s0), (e1 - e0) * s1
    section = np.array([k[0] for k in keys])
    return {
        "value_effect": float(value.sum()),
        "mix_effect": float(mix.sum()),
        "value_effect_by_section": {s: float(value[section == s].sum()) for s in SECTIONS},
        "mix_effect_by_section": {s: float(mix[section == s].sum()) for s in SECTIONS},
        "n_metrics_common": len(old.keys() & new.keys()),
    }


def _latest_points(scores: DcScores) -> pd.DataFrame:
    """(brand_id, project_id) -> the brand's latest period with a DC in that project, its DC and the
    project's period span for the brand."""
    b = scores.brands.dropna(subset=["dc_score"])
    b = b.assign(period=pd.to_datetime(b["period"])).sort_values("period")
    grouped = b.groupby(["brand_id", "project_id"])
    latest = grouped.tail(1).set_index(["brand_id", "project_id"])
    return pd.DataFrame(
        {
            "period": latest["period"],
            "dc": latest["dc_score"].astype(float),
            "mean_dc": grouped["dc_score"].mean(),
            "n_periods": grouped.size(),
        }  # fmt: skip
    ).reset_index()


def _at_points(frame: pd.DataFrame, points: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """The rows of `frame` at each (brand, project, latest period) of `points`, grouped by that key."""
    keys = ["brand_id", "project_id", "period"]
    rows = frame.assign(period=pd.to_datetime(frame["period"])).merge(points[keys], on=keys)
    return {tuple(k): g for k, g in rows.groupby(keys, sort=False)}


def _step(at: dict, frameworks: dict, groups: dict, brand_id: int, a, b) -> dict:
    """One consecutive pair of a brand's projects (a and b are rows of _latest_points)."""
    j = jaccard(frameworks[a.project_id], frameworks[b.project_id])
    row = {"brand_id": int(brand_id), "from_project": int(a.project_id), "to_project": int(b.project_id),
           "from_period": a.period, "to_period": b.period, "from_series_group": groups.get(a.project_id),
           "to_series_group": groups.get(b.project_id), "jaccard": j, "dc_from": a.dc, "dc_to": b.dc}  # fmt: skip
    if j < MIN_JACCARD:
        return {**row, "status": "not_comparable", "reason": not_comparable_reason(j)}
    empty = pd.DataFrame(columns=[*METRIC_KEY, "effective_weight", "directed_score", "section_score"])
    metrics = [at["metrics"].get((brand_id, p.project_id, p.period), empty) for p in (a, b)]
    split = value_mix_split(*metrics)
    sections = [
        at["sections"].get((brand_id, p.project_id, p.period), empty).set_index("section_name")["section_score"]
        for p in (a, b)
    ]
    deltas = (sections[1] - sections[0]).dropna()
    return {**row, "status": "ok", "reason": None, "delta_dc": b.dc - a.dc, **split,
            "section_deltas": {s: float(deltas[s]) for s in SECTIONS if s in deltas.index}}  # fmt: skip


def brand_evolution(
    scores: DcScores, metrics: pd.DataFrame, projects: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(evolution, ranking): a row per consecutive pair of projects of every brand scored in two or more
    projects; and per brand its projects ranked by mean DC, with the consistency of those means."""
    points = _latest_points(scores)
    if points.empty:
        return pd.DataFrame(columns=EVOLUTION_COLUMNS), pd.DataFrame(columns=RANKING_COLUMNS)
    starts = dict(zip(projects["project_id"].astype(int), pd.to_datetime(projects["start_date"])))
    groups = {int(p): (None if pd.isna(g) else g) for p, g in zip(projects["project_id"], projects["series_group"])}
    points["start"] = points["project_id"].map(starts)
    frameworks = {int(p): framework(metrics, int(p)) for p in points["project_id"].unique()}
    at = {"metrics": _at_points(scores.metrics, points), "sections": _at_points(scores.sections, points)}
    steps, ranking = [], []
    for brand_id, own in points.groupby("brand_id", sort=True):
        own = own.sort_values(["period", "start", "project_id"])
        ordered = list(own.itertuples(index=False))
        steps += [_step(at, frameworks, groups, brand_id, a, b) for a, b in zip(ordered, ordered[1:])]
        means = own["mean_dc"].to_numpy(dtype=float)
        consistency = 1 - np.std(means, ddof=1) / means.mean() if means.size >= 2 and means.mean() else np.nan
        ranks = own["mean_dc"].rank(ascending=False, method="min").astype(int)
        ranking += [
            {
                "brand_id": int(brand_id),
                "project_id": int(r.project_id),
                "series_group": groups.get(r.project_id),
                "n_periods": int(r.n_periods),
                "mean_dc": float(r.mean_dc),
                "rank": int(rank),
                "n_projects": len(ordered),
                "consistency_across_projects": consistency,
            }  # fmt: skip
            for r, rank in zip(ordered, ranks)
        ]
    evolution = pd.DataFrame(steps).reindex(columns=EVOLUTION_COLUMNS)
    return evolution, pd.DataFrame(ranking, columns=RANKING_COLUMNS).sort_values(
        ["brand_id", "rank"], ignore_index=True
    )


def evolution_tables(scores: DcScores, metrics: pd.DataFrame, projects: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The EVOLUTION_TABLES the cross_project_evolution asset stores."""
    evolution, ranking = brand_evolution(scores, metrics, projects)
    evolution = json_columns(evolution, ["section_deltas", "value_effect_by_section", "mix_effect_by_section"])
    return dict(zip(EVOLUTION_TABLES, (evolution, ranking)))
