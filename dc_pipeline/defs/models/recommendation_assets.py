"""`brand_recommendations` (per project × brand): GA Pareto plans tuned by Optuna (SPEC §6c)."""

import time

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import readers
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.automation import RETUNE
from dc_pipeline.defs.models.pair_metadata import add_pair_metadata
from dc_pipeline.defs.models.resources import OptunaResource, RecommendationConfig
from dc_pipeline.defs.models.tuning_metadata import tuning_metadata
from dc_pipeline.defs.partitions import pair_backfill_policy, project_brand_partitions, project_of_pair, run_pairs
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.domain.panels import outcome_effect
from dc_pipeline.domain.reference import Reference

SHOWN_COLUMNS = ["status", "n_metrics", "n_plans", "max_delta_dc", "hypervolume", "targets", "outcome_validated",
                 "reason"]  # fmt: skip


def _optimizer_config(system, run: RecommendationConfig):
    overrides = {
        k: getattr(run, k)
        for k in ("max_uplift_points", "max_metrics_changed", "ga_max_evaluations")
        if getattr(run, k) is not None
    }
    return system.optimizer_config.model_copy(update=overrides)


@dg.asset(
    partitions_def=project_brand_partitions,
    backfill_policy=pair_backfill_policy,
    deps=[
        dg.AssetDep("dc_scores", partition_mapping=project_of_pair),
        dg.AssetDep("outcome_models", partition_mapping=project_of_pair),
    ],
    group_name="models",
    pool="optuna",
    kinds={"optuna", "postgres"},
    metadata=stored_metadata("brand_recommendations"),
    automation_condition=RETUNE,
    description="NSGA-II Pareto plans (ΔDC vs effort) for the brand's latest period with the knee plan, the "
    "cheapest plans reaching +1/+3/+5 and each plan's outcome change from the validated revenue model (SPEC §6c); "
    "the GA's parameters are tuned once per project (on its first member brand) and each brand runs its own GA.",
)
def brand_recommendations(
    context: dg.AssetExecutionContext,
    config: RecommendationConfig,
    reference_snapshot: dict[str, pd.DataFrame],
    pipeline_db: PostgresResource,
    optuna: OptunaResource,
    settings: SettingsResource,
):
    from dc_pipeline.domain.recommendations.project_tuning import tune_project_ga
    from dc_pipeline.domain.recommendations.tables import recommend_brand, recommendation_tables
    from dc_pipeline.domain.study_ledger import StudyLedger, study_row

    started = time.perf_counter()
    system = settings.load()
    tuning = optuna.settings(system.optimization_config, config)
    optimizer = _optimizer_config(system, config)
    seed = config.seed if config.seed is not None else system.random_seed
    reference = Reference.from_snapshot(reference_snapshot)
    pairs = run_pairs(context)
    tracked = [pair for pair in pairs if reference.is_member(*pair)]
    brands, study_rows = [], []
    for project_id in sorted({p for p, _ in tracked}):
        with pipeline_db.connection() as conn:
            scores = readers.read_dc_scores(conn, [project_id])
            metrics = readers.read_metric_definitions(conn, [project_id])
            effect = outcome_effect(readers.read_outcome_model_results(conn, project_id), "revenue")
        n_brands = len(reference.members(project_id))
        ledger = StudyLedger(optuna.study_factory(tuning, n_brands=n_brands))

        def factory(n_metrics: int, ledger=ledger, n_brands=n_brands):
            return ledger.with_factory(optuna.study_factory(tuning, n_brands=n_brands, n_metrics=n_metrics))

        shared = tune_project_ga(
            scores, metrics, project_id, reference.members(project_id), config=optimizer, settings=tuning,
            study_factory=factory, seed=seed,
        )  # fmt: skip
        counted: set[str] = set()  # the shared study's trials count once, on the first pair that shows it
        for _, brand_id in [pair for pair in tracked if pair[0] == project_id]:
            plans = recommend_brand(
                scores, metrics, project_id, brand_id, config=optimizer, settings=tuning, seed=seed, effect=effect,
                study_factory=factory, shared=shared,
            )  # fmt: skip
            brands.append(plans)
            row = study_row(f"p{project_id}/b{brand_id}", plans.result.study, ledger)
            if row["study_name"] in counted:
                row["trials_run"] = 0
            counted.add(row["study_name"])
            study_rows.append(row)
    frames = recommendation_tables(brands)
    summaries = frames["brand_recommendation_summaries"]

    def describe(project_id: int, brand_id: int) -> dict:
        own = summaries[(summaries["project_id"] == project_id) & (summaries["brand_id"] == brand_id)]
        rows = [r for r in study_rows if r["item"] == f"p{project_id}/b{brand_id}"]
        return {
            "recommendations": dg.MetadataValue.md(own[SHOWN_COLUMNS].to_markdown(index=False, floatfmt=".3f")),
            **tuning_metadata(rows, started),
        }

    add_pair_metadata(context, reference, describe)
    context.log.info(f"{len(tracked)} of {len(pairs)} pairs tracked")
    return frames if tracked else {}
