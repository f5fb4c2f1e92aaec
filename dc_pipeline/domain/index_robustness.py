"""The tables of `index_robustness` (SPEC §9) for one batch of projects, and the summary the UI shows."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.domain.robustness import (
    SOBOL_COLUMNS,
    effective_vs_nominal_weights,
    geometric_mean_ranks,
    leave_one_section_out,
    monte_carlo_weight_ranks,
    ranking_driver,
    section_dc_correlations,
    sobol_section_weights,
)
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.settings import RobustnessConfig, ScoringConfig


def robustness_tables(
    values: pd.DataFrame,
    metrics: pd.DataFrame,
    scores: DcScores,
    scoring: ScoringConfig,
    robust: RobustnessConfig,
    seed: int,
) -> dict[str, pd.DataFrame]:
    if len(values):
        values = values.assign(period=pd.to_datetime(values["period"]))
    loso = leave_one_section_out(values, metrics, scoring)
    return {
        "robustness_monte_carlo": monte_carlo_weight_ranks(
            values, metrics, scoring, n_draws=robust.n_draws, weight_noise=robust.weight_noise, seed=seed
        ),
        "robustness_geometric": geometric_mean_ranks(scores),
        "robustness_loso": loso,
        "robustness_driver": ranking_driver(loso),
        "robustness_weights": effective_vs_nominal_weights(scores, metrics, scoring),
        "robustness_correlations": section_dc_correlations(scores),
        # Sobol indices only when robustness_config.sobol is set (SPEC §9); otherwise the table is empty
        "robustness_sobol": sobol_section_weights(values, metrics, scoring, robust.weight_noise, seed=seed)
        if robust.sobol
        else pd.DataFrame(columns=list(SOBOL_COLUMNS)),
    }


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["period"] == frame["period"].max()] if len(frame) else frame


def robustness_summary(tables: dict[str, pd.DataFrame]) -> dict:
    """Counts, the latest period's rank bands and ranking driver, and the mean |Δrank| per dropped section."""
    mc, driver = tables["robustness_monte_carlo"], tables["robustness_driver"]
    summary: dict = {
        "periods": int(mc["period"].nunique()) if len(mc) else 0,
        "rank_uncertain_brand_periods": int(mc["rank_uncertain"].sum()) if len(mc) else 0,
        "tier_uncertain_brand_periods": int(mc["tier_uncertain"].sum()) if len(mc) else 0,
    }
    latest = _latest(mc)
    if len(latest):
        summary["latest_period"] = str(pd.Timestamp(latest["period"].iloc[0]).date())
        summary["latest_rank_bands"] = latest.sort_values(["project_id", "nominal_rank"])[
            ["project_id", "brand_id", "dc_score", "nominal_rank", "median_rank", "rank_lo", "rank_hi", "dc_lo",
             "dc_hi", "p_tier_change", "rank_uncertain", "tier_uncertain"]
        ]  # fmt: skip
    latest_driver = _latest(driver)
    if len(latest_driver):
        summary["ranking_driver"] = latest_driver[["project_id", "ranking_driver", "mean_abs_delta_rank", "reason"]]
    loso = _latest(tables["robustness_loso"])
    if len(loso):
        shifts = (
            loso.assign(abs_shift=loso["delta_rank"].astype("Float64").abs())
            .groupby("dropped_section")["abs_shift"]
            .mean()
            .round(3)
        )
        summary["loso_mean_abs_rank_shift"] = {k: float(v) for k, v in shifts.items()}
    sobol = _latest(tables["robustness_sobol"])
    if len(sobol):
        summary["sobol"] = sobol[["project_id", "section_name", "s1", "st", "share_moved", "status", "reason"]]
    return summary
