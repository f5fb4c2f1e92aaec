"""`index_robustness` (per project and period): how much the DC ranking depends on weights and aggregation
(SPEC §9)."""

import time

import dagster as dg
import pandas as pd

from dc_pipeline.adapters.store import scores_from_tables, stored_metadata
from dc_pipeline.defs.automation import ON_UPSTREAM_CHANGE
from dc_pipeline.defs.partitions import project_backfill_policy, projects_partitions
from dc_pipeline.defs.resources import SettingsResource


def _metadata(summary: dict, n_draws: int, weight_noise: float, started: float) -> dict:
    meta = {
        "n_draws": dg.MetadataValue.int(n_draws),
        "weight_noise": dg.MetadataValue.float(float(weight_noise)),
        **{k: dg.MetadataValue.int(summary[k]) for k in ("periods", "rank_uncertain_brand_periods",
                                                         "tier_uncertain_brand_periods")},
        "wall_seconds": dg.MetadataValue.float(float(round(time.perf_counter() - started, 3))),
    }  # fmt: skip
    if "latest_period" in summary:
        meta["latest_period"] = dg.MetadataValue.text(summary["latest_period"])
        meta["latest_rank_bands"] = dg.MetadataValue.md(
            summary["latest_rank_bands"].to_markdown(index=False, floatfmt=".2f")
        )
    if "ranking_driver" in summary:
        meta["ranking_driver"] = dg.MetadataValue.md(summary["ranking_driver"].to_markdown(index=False))
    if "loso_mean_abs_rank_shift" in summary:
        meta["loso_mean_abs_rank_shift"] = dg.MetadataValue.json(summary["loso_mean_abs_rank_shift"])
    meta["sobol"] = (
        dg.MetadataValue.md(summary["sobol"].to_markdown(index=False, floatfmt=".3f"))
        if "sobol" in summary
        else dg.MetadataValue.text("not computed: robustness_config.sobol is false")
    )
    return meta


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    group_name="models",
    pool="optuna",  # CPU-bound Monte Carlo: shares the slots of the tuning steps
    kinds={"pandas", "postgres"},
    metadata=stored_metadata("index_robustness"),
    automation_condition=ON_UPSTREAM_CHANGE,
    description="Rank and DC bands under Monte Carlo weight perturbation, geometric-mean aggregation, "
    "leave-one-section-out rank shifts, effective vs nominal weights, Sobol indices of the section weights when "
    "robustness_config.sobol is set (SPEC §9).",
)
def index_robustness(
    context: dg.AssetExecutionContext,
    validated_values: pd.DataFrame,
    validated_metrics: pd.DataFrame,
    dc_scores: dict[str, pd.DataFrame],
    settings: SettingsResource,
):
    from dc_pipeline.domain.index_robustness import robustness_summary, robustness_tables

    started = time.perf_counter()
    system = settings.load()
    robust = system.robustness_config
    tables = robustness_tables(
        validated_values, validated_metrics, scores_from_tables(dc_scores), system.scoring_config, robust,
        system.random_seed,
    )  # fmt: skip
    return dg.Output(tables, metadata=_metadata(robustness_summary(tables), robust.n_draws, robust.weight_noise,
                                                started))  # fmt: skip
