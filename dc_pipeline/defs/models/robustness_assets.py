"""`index_robustness` (per project and period): how much the DC ranking depends on weights and
aggregation (SPEC §9)."""

import time

import dagster as dg
import pandas as pd

from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.resources import SettingsResource
from dc_pipeline.defs.scoring.assets import from_tables
from dc_pipeline.domain.robustness import (
    effective_vs_nominal_weights, geometric_mean_ranks, leave_one_section_out, monte_carlo_weight_ranks,
    ranking_driver, section_dc_correlations,
)

ROBUSTNESS_TABLES = ["robustness_monte_carlo", "robustness_geometric", "robustness_loso", "robustness_driver",
                     "robustness_weights", "robustness_correlations"]


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["period"] == frame["period"].max()] if len(frame) else frame


def _metadata(tables: dict[str, pd.DataFrame], n_draws: int, weight_noise: float, started: float) -> dict:
    mc, driver = tables["robustness_monte_carlo"], tables["robustness_driver"]
    meta = {
        "n_draws": dg.MetadataValue.int(n_draws), "weight_noise": dg.MetadataValue.float(float(weight_noise)),
        "periods": dg.MetadataValue.int(int(mc["period"].nunique()) if len(mc) else 0),
        "rank_uncertain_brand_periods": dg.MetadataValue.int(int(mc["rank_uncertain"].sum()) if len(mc) else 0),
        "tier_uncertain_brand_periods": dg.MetadataValue.int(int(mc["tier_uncertain"].sum()) if len(mc) else 0),
        "wall_seconds": dg.MetadataValue.float(float(round(time.perf_counter() - started, 3))),
    }
    latest = _latest(mc)
    if len(latest):
        meta["latest_period"] = dg.MetadataValue.text(str(pd.Timestamp(latest["period"].iloc[0]).date()))
        shown = latest.sort_values(["project_id", "nominal_rank"])[
            ["project_id", "brand_id", "dc_score", "nominal_rank", "median_rank", "rank_lo", "rank_hi", "dc_lo",
             "dc_hi", "p_tier_change", "rank_uncertain", "tier_uncertain"]]
        meta["latest_rank_bands"] = dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".2f"))
    latest_driver = _latest(driver)
    if len(latest_driver):
        meta["ranking_driver"] = dg.MetadataValue.md(
            latest_driver[["project_id", "ranking_driver", "mean_abs_delta_rank", "reason"]].to_markdown(index=False))
    loso = _latest(tables["robustness_loso"])
    if len(loso):
        shifts = (loso.assign(abs_shift=loso["delta_rank"].astype("Float64").abs())
                  .groupby("dropped_section")["abs_shift"].mean().round(3))
        meta["loso_mean_abs_rank_shift"] = dg.MetadataValue.json({k: float(v) for k, v in shifts.items()})
    return meta


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    group_name="models",
    pool="optuna",  # CPU-bound Monte Carlo: shares the slots of the tuning steps
    kinds={"pandas", "postgres"},
    metadata={"dc/schema": "dc_core", "dc/tables": ROBUSTNESS_TABLES},
    automation_condition=dg.AutomationCondition.eager(),
    description="Rank and DC bands under Monte Carlo weight perturbation, geometric-mean aggregation, "
    "leave-one-section-out rank shifts, effective vs nominal weights (SPEC §9).",
)
def index_robustness(context: dg.AssetExecutionContext, validated_values: pd.DataFrame, src_metrics: pd.DataFrame,
                     dc_scores: dict[str, pd.DataFrame], settings: SettingsResource):
    started = time.perf_counter()
    system = settings.load()
    config, robust = system.scoring_config, system.robustness_config
    scores = from_tables(dc_scores)
    if len(validated_values):
        validated_values = validated_values.assign(period=pd.to_datetime(validated_values["period"]))
    loso = leave_one_section_out(validated_values, src_metrics, config)
    tables = {
        "robustness_monte_carlo": monte_carlo_weight_ranks(
            validated_values, src_metrics, config, n_draws=robust.n_draws, weight_noise=robust.weight_noise,
            seed=system.random_seed),
        "robustness_geometric": geometric_mean_ranks(scores),
        "robustness_loso": loso,
        "robustness_driver": ranking_driver(loso),
        "robustness_weights": effective_vs_nominal_weights(scores, src_metrics, config),
        "robustness_correlations": section_dc_correlations(scores),
    }
    if robust.sobol:
        context.log.warning("robustness_config.sobol is set but Sobol indices are not computed in this version")
    return dg.Output(tables, metadata=_metadata(tables, robust.n_draws, robust.weight_noise, started))
