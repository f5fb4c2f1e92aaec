"""Aggregation alternative and leave-one-section-out (SPEC §9): how ranks move when the DC is
aggregated by a geometric mean, or computed without one section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.scoring import KEYS, DcScores, compute_dc_scores, rank_within
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline.domain.source_tables import SECTIONS

GEOMETRIC_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "dc_score",
    "nominal_rank",
    "geometric_mean",
    "geometric_rank",
    "rank_shift",
)
LOSO_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "dropped_section",
    "dc_score",
    "dc_without",
    "nominal_rank",
    "rank_without",
    "delta_rank",
)
DRIVER_COLUMNS: tuple[str, ...] = (
    "project_id",
    "period",
    "ranking_driver",
    "mean_abs_delta_rank",
    "status",
    "reason",
)


def geometric_mean_ranks(scores: DcScores) -> pd.DataFrame:
    """Section scores floored at 1, combined by a geometric mean weighted like the DC.

    The weights are the sections' effective weights (sum of e_m; equal when sections are
    equally weighted), so the rank shift isolates the aggregation rule from the weighting.
    rank_shift = geometric_rank - nominal_rank (positive: the brand drops).
    """
    sections = scores.sections.dropna(subset=["effective_weight"])
    log_score = np.log(np.maximum(sections["section_score"].to_numpy(dtype=float), 1.0))
    weighted = sections.assign(weighted_log=log_score * sections["effective_weight"])
    sums = weighted.groupby(list(KEYS))[["weighted_log", "effective_weight"]].sum().reset_index()
    sums["geometric_mean"] = np.exp(sums["weighted_log"] / sums["effective_weight"])
    frame = scores.brands.loc[:, [*KEYS, "dc_score", "rank"]].rename(columns={"rank": "nominal_rank"})
    frame = frame.merge(sums[[*KEYS, "geometric_mean"]], on=list(KEYS), how="left")
    frame["geometric_rank"] = rank_within(frame, "geometric_mean", ["project_id", "period"])
    frame["rank_shift"] = frame["geometric_rank"] - frame["nominal_rank"]
    return frame.loc[:, list(GEOMETRIC_COLUMNS)]


# ---------------------------------------------------------------- leave one section out


def leave_one_section_out(
    values: pd.DataFrame, metrics: pd.DataFrame, config: ScoringConfig = ScoringConfig()
) -> pd.DataFrame:
    """Δrank per brand when each section's metrics are dropped and the DC renormalised.

    One `compute_dc_scores` call per section name covers every project at once; the dropped
    section's metrics are made inactive so the coverage denominator excludes them too.
    delta_rank = rank_without - nominal_rank (positive: the brand drops without the section).
    """
    nominal = compute_dc_scores(values, metrics, config).brands
    nominal = nominal.loc[nominal["rank"].notna(), [*KEYS, "dc_score", "rank"]]
    is_active = metrics["is_active"].astype("boolean").fillna(False).astype(bool)
    present = metrics.loc[is_active, ["project_id", "section_name"]].drop_duplicates()
    order = [s for s in SECTIONS if s in set(present["section_name"])]
    order += sorted(set(present["section_name"]) - set(SECTIONS))
    frames = []
    for section in order:  # at most a handful of section names
        reduced = metrics.assign(is_active=is_active & (metrics["section_name"] != section))
        without = compute_dc_scores(values, reduced, config).brands[[*KEYS, "dc_score", "rank"]]
        frame = nominal.merge(without, on=list(KEYS), how="left", suffixes=("", "_without"))
        frame = frame.merge(present[present["section_name"] == section][["project_id"]], on="project_id")
        frame["dropped_section"] = section
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(LOSO_COLUMNS))
    out = pd.concat(frames, ignore_index=True).rename(
        columns={"rank": "nominal_rank", "dc_score_without": "dc_without"}
    )
    out["rank_without"] = out["rank_without"].astype("Int64")
    out["delta_rank"] = out["rank_without"] - out["nominal_rank"]
    return out.loc[:, list(LOSO_COLUMNS)]


def section_rank_sensitivity(loso: pd.DataFrame) -> pd.DataFrame:
    """Mean |Δrank| per (project, period, dropped section) over brands ranked both ways."""
    loso = loso.assign(abs_delta=loso["delta_rank"].astype("Float64").abs().astype(float))
    return (
        loso.groupby(["project_id", "period", "dropped_section"], sort=True)
        .agg(mean_abs_delta_rank=("abs_delta", "mean"), n_brands=("abs_delta", "count"))
        .reset_index()
    )


def ranking_driver(loso: pd.DataFrame) -> pd.DataFrame:
    """The section whose removal moves ranks most (largest mean |Δrank|) per (project, period).

    Ties go to the first section in SPEC order; when no removal changes any rank, or fewer than
    two brands are ranked, there is no driver and the reason says why.
    """
    sensitivity = section_rank_sensitivity(loso)
    order = {name: i for i, name in enumerate(SECTIONS)}
    sensitivity["order"] = sensitivity["dropped_section"].map(order).fillna(len(order))
    rows = []
    for (project_id, period), group in sensitivity.groupby(["project_id", "period"], sort=True):
        group = group.sort_values(["mean_abs_delta_rank", "order"], ascending=[False, True])
        best = group.iloc[0]
        n_brands = int(group["n_brands"].max())
        if n_brands < 2:
            status, driver, reason = "insufficient_data", None, f"{n_brands} ranked brands, 2 needed"
        elif not best["mean_abs_delta_rank"] > 0:
            status, driver, reason = "ok", None, f"dropping any of {len(group)} sections leaves every rank unchanged"
        else:
            status, driver, reason = (
                "ok",
                best["dropped_section"],
                (
                    f"dropping {best['dropped_section']} moves ranks by {best['mean_abs_delta_rank']:.2f} on average "
                    f"over {n_brands} brands"
                ),
            )
        rows.append(
            {
                "project_id": project_id,
                "period": period,
                "ranking_driver": driver,
                "mean_abs_delta_rank": float(best["mean_abs_delta_rank"]),
                "status": status,
                "reason": reason,
            }
        )
    return pd.DataFrame(rows, columns=list(DRIVER_COLUMNS))
