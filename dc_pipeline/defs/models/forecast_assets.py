"""`brand_forecasts` (per project × brand): DC, section and outcome forecasts with their rolling-origin
backtests (SPEC §6b)."""

import time

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.adapters import model_registry, readers
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.automation import RETUNE
from dc_pipeline.defs.models.pair_metadata import add_pair_metadata
from dc_pipeline.defs.models.resources import OptunaResource, TuningConfig
from dc_pipeline.defs.models.tuning_metadata import tuning_metadata
from dc_pipeline.defs.partitions import pair_backfill_policy, project_brand_partitions, project_of_pair, run_pairs
from dc_pipeline.defs.resources import FolderResource, PostgresResource, SettingsResource
from dc_pipeline.domain.reference import Reference
from dc_pipeline.version import code_version


@dg.asset(
    partitions_def=project_brand_partitions,
    backfill_policy=pair_backfill_policy,
    deps=[
        dg.AssetDep("dc_scores", partition_mapping=project_of_pair),
        dg.AssetDep("validated_outcomes", partition_mapping=project_of_pair),
    ],
    group_name="models",
    pool="optuna",
    kinds={"optuna", "statsmodels", "postgres"},
    metadata=stored_metadata("brand_forecasts"),
    automation_condition=RETUNE,
    description="Forecasts of DC, the four sections and the available outcomes 1..max_forecast_horizon periods "
    "ahead with quantiles (80 % / 95 % PIs), tier by history length, rolling-origin MASE against the seasonal "
    "naive and interval coverage (SPEC §6b); the tuned tier is tuned once per project and series for all its "
    "brands, each brand published on its own backtest.",
)
def brand_forecasts(
    context: dg.AssetExecutionContext,
    config: TuningConfig,
    reference_snapshot: dict[str, pd.DataFrame],
    pipeline_db: PostgresResource,
    optuna: OptunaResource,
    model_store: FolderResource,
    settings: SettingsResource,
):
    from dc_pipeline.domain.forecasting.brands import FORECAST_KIND, forecast_project, forecast_tables
    from dc_pipeline.domain.panels import outcome_observations
    from dc_pipeline.domain.study_ledger import StudyLedger, study_row, summary_dict

    started = time.perf_counter()
    system = settings.load()
    tuning = optuna.settings(system.optimization_config, config)
    seed = config.seed if config.seed is not None else system.random_seed
    horizon = system.analysis_config.max_forecast_horizon
    reference = Reference.from_snapshot(reference_snapshot)
    pairs = run_pairs(context)
    tracked = [pair for pair in pairs if reference.is_member(*pair)]
    forecasts, sections, study_rows = [], [], []
    for project_id in sorted({p for p, _ in tracked}):
        with pipeline_db.connection() as conn:
            scores = readers.read_dc_scores(conn, reference.timeline(project_id), reference.members(project_id))
            outcomes = readers.read_validated_outcomes(
                conn, reference.timeline(project_id), reference.members(project_id)
            )
        obs = outcome_observations(scores, outcomes, project_id)
        sections.append(scores.sections)
        ledger = StudyLedger(optuna.study_factory(tuning))
        brands = [brand_id for p, brand_id in tracked if p == project_id]
        project_forecasts = forecast_project(
            obs, project_id, brands, members=reference.members(project_id), m=reference.seasonal_period(project_id),
            horizon=horizon, settings=tuning, study_factory=ledger, seed=seed,
        )  # fmt: skip
        forecasts += project_forecasts
        study_rows += [
            study_row(f"p{project_id}/b{f.brand_id}/{f.series}", summary_dict(f.result.study), ledger)
            for f in project_forecasts
            if f.result is not None and f.result.study is not None
        ]
    frames = forecast_tables(forecasts, pd.concat(sections) if sections else pd.DataFrame(), horizon)
    registry = [
        model_registry.RegistryEntry(
            model_id=f.name,
            kind=FORECAST_KIND,
            project_id=f.project_id,
            brand_id=f.brand_id,
            target=f.series,
            study_name=f.result.study.study_name if f.result.study else None,
            status=f.result.status,
            validated=f.result.published_method == f.result.method and f.result.tier in ("ets", "tuned"),
            best_params=f.result.method_params,
            cv_metrics={
                k: f.result.backtest.get(k) for k in ("mase", "snaive_mase", "rel_mase", "coverage_80", "coverage_95")
            },
            data_version=f.version,
            code_version=code_version(),
            artifact_path=str(model_registry.save_artifact(model_store.root(), f.name, f.result)),
            run_id=context.run_id,
        )  # fmt: skip
        for f in forecasts
        if f.ok
    ]
    if registry:
        with pipeline_db.connection() as conn:
            model_registry.register(conn, registry)
    summary = frames["brand_forecast_summaries"]

    def describe(project_id: int, brand_id: int) -> dict:
        own = summary[(summary["project_id"] == project_id) & (summary["brand_id"] == brand_id)]
        prefix = f"p{project_id}/b{brand_id}/"
        return {**_forecast_metadata(own), **tuning_metadata([r for r in study_rows if r["item"].startswith(prefix)],
                                                              started)}  # fmt: skip

    add_pair_metadata(context, reference, describe)
    context.log.info(f"{len(tracked)} of {len(pairs)} pairs tracked; {len(forecasts)} series forecast")
    return frames if tracked else {}


def _forecast_metadata(summary: pd.DataFrame) -> dict:
    ok = summary[summary["status"] == "ok"]
    return {
        "series_forecast": dg.MetadataValue.int(len(ok)),
        "series_not_forecast": dg.MetadataValue.int(len(summary) - len(ok)),
        "tiers": dg.MetadataValue.json({str(k): int(v) for k, v in summary["tier"].value_counts().items()}),
        "median_rel_mase": dg.MetadataValue.float(
            float(np.nanmedian(ok["rel_mase"].astype(float))) if ok["rel_mase"].notna().any() else float("nan")
        ),
        "coverage_review": dg.MetadataValue.int(int((ok["health"] == "REVIEW").sum())),
        "forecasts": dg.MetadataValue.md(
            summary[
                [
                    "series",
                    "tier",
                    "published_method",
                    "rel_mase",
                    "coverage_80",
                    "coverage_95",
                    "coverage_n_points",
                    "health",
                    "reason",
                ]
            ].to_markdown(index=False, floatfmt=".3f")
        ),
    }
