"""`brand_forecasts` (per project × brand): DC, section and outcome forecasts with their
rolling-origin backtests (SPEC §6b)."""

import time

import dagster as dg
import numpy as np
import pandas as pd

from dc_pipeline.adapters import model_registry
from dc_pipeline.defs.models import inputs
from dc_pipeline.defs.models.outcome_assets import RETUNE
from dc_pipeline.defs.models.resources import ModelStoreResource, OptunaResource, TuningConfig
from dc_pipeline.defs.models.tuning_run import StudyLedger, json_columns, study_row, summary_dict, tuning_metadata
from dc_pipeline.defs.pair_membership import not_tracked_metadata, run_pairs, split_tracked
from dc_pipeline.defs.partitions import project_brand_partitions, project_of_pair, pair_backfill_policy
from dc_pipeline.defs.reports.runtime import code_version
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.domain.forecasting import QUANTILE_COLUMNS, ForecastResult, coherence_gap, forecast_series
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, OUTCOME_RANGES, SECTIONS
from dc_pipeline.domain.timeline import seasonal_period
from dc_pipeline.domain.tuning import study_name

FORECAST_KIND = "forecast"
COVERAGE_TOLERANCE = 0.10  # more than 10 pp off nominal makes the forecast's health REVIEW
FORECAST_TABLES = ["brand_forecasts", "brand_forecast_summaries", "brand_forecast_coherence"]
SUMMARY_COLUMNS = [
    "project_id", "brand_id", "series", "kind", "tier", "status", "reason", "method", "method_params",
    "published_method", "n_observed", "horizon", "interval_method", "mase", "snaive_mase", "rel_mase",
    "coverage_80", "coverage_95", "coverage_reason", "health", "backtest", "study_name", "model_id",
    "model_data_version",
]


def series_kind(series: str) -> str:
    """Scores and bounded outcomes are modelled on the logit scale (forecasts stay in [0, 100]);
    unbounded positive outcomes on the log scale."""
    if series == "dc" or series in SECTIONS:
        return "score"
    return "score" if OUTCOME_RANGES[series][2] == 100.0 else "positive"


def clip_to_valid_range(frame: pd.DataFrame, series: str) -> pd.DataFrame:
    """Quantiles inside the series' valid range (SPEC §2), e.g. bestseller_rank >= 1."""
    low, high = (0.0, 100.0) if series == "dc" or series in SECTIONS else (OUTCOME_RANGES[series][0],
                                                                         OUTCOME_RANGES[series][2])
    cols = [c for c in QUANTILE_COLUMNS if c in frame.columns]
    frame[cols] = frame[cols].clip(lower=low, upper=high)
    return frame


def _health(backtest: dict) -> str:
    gaps = [abs(backtest[f"coverage_{level}"] - level / 100) for level in (80, 95)
            if backtest.get(f"coverage_{level}") is not None]
    return "REVIEW" if any(g > COVERAGE_TOLERANCE for g in gaps) else "OK"


def _summary_row(project_id, brand_id, series, result: ForecastResult | None, reason: str | None, horizon: int,
                 model_id: str | None, version: str) -> dict:
    if result is None:
        return {"project_id": project_id, "brand_id": brand_id, "series": series, "kind": series_kind(series),
                "tier": "none", "status": "missing_input" if reason.startswith("missing") else "failed",
                "reason": reason, "method_params": {}, "backtest": {}, "horizon": horizon, "health": None,
                "model_data_version": version}
    bt = result.backtest
    return {
        "project_id": project_id, "brand_id": brand_id, "series": series, "kind": series_kind(series),
        "tier": result.tier, "status": result.status, "reason": result.reason, "method": result.method,
        "method_params": result.method_params, "published_method": result.published_method,
        "n_observed": result.n_observed, "horizon": horizon, "interval_method": result.interval_method,
        **{k: bt.get(k) for k in ("mase", "snaive_mase", "rel_mase", "coverage_80", "coverage_95", "coverage_reason")},
        "health": _health(bt) if result.status == "ok" else None, "backtest": bt,
        "study_name": result.study.study_name if result.study else None, "model_id": model_id,
        "model_data_version": version,
    }


def _brand_series(obs: pd.DataFrame, brand_id: int) -> dict[str, pd.Series]:
    own = obs[obs["brand_id"] == brand_id].set_index("period").sort_index()
    columns = ["dc", *SECTIONS, *OUTCOME_COLUMNS]
    return {c: own[c].astype(float) for c in columns}


def _coherence(results: dict[str, ForecastResult], weights: dict[str, float], project_id, brand_id) -> pd.DataFrame:
    dc = results.get("dc")
    if dc is None or dc.status != "ok":
        return pd.DataFrame(columns=["project_id", "brand_id", "horizon", "period", "coherence_gap"])
    sections = {s: results[s].median for s in SECTIONS if s in results and results[s].status == "ok"}
    gap = coherence_gap(dc.median, sections, weights)
    return pd.DataFrame({"project_id": project_id, "brand_id": brand_id,
                         "horizon": dc.quantiles["horizon"].to_numpy(), "period": gap.index,
                         "coherence_gap": gap.values})


@dg.asset(
    partitions_def=project_brand_partitions,
    backfill_policy=pair_backfill_policy,
    deps=[dg.AssetDep("dc_scores", partition_mapping=project_of_pair),
          dg.AssetDep("validated_outcomes", partition_mapping=project_of_pair)],
    group_name="models",
    pool="optuna",
    kinds={"optuna", "statsmodels", "postgres"},
    metadata={"dc/schema": "dc_core", "dc/tables": FORECAST_TABLES},
    automation_condition=RETUNE,
    description="Forecasts of DC, the four sections and the available outcomes 1..max_forecast_horizon periods "
    "ahead with quantiles (80 % / 95 % PIs), tier by history length, rolling-origin MASE against the seasonal "
    "naive and interval coverage (SPEC §6b).",
)
def brand_forecasts(context: dg.AssetExecutionContext, config: TuningConfig,
                    reference_snapshot: dict[str, pd.DataFrame], pipeline_db: PostgresResource,
                    optuna: OptunaResource, model_store: ModelStoreResource, settings: SettingsResource):
    started = time.perf_counter()
    system = settings.load()
    tuning = optuna.settings(system.optimization_config, config)
    seed = config.seed if config.seed is not None else system.random_seed
    horizon = system.analysis_config.max_forecast_horizon
    tracked, untracked = split_tracked(run_pairs(context), reference_snapshot["ref_project_brands"])
    quantiles, summaries, coherence, study_rows, registry = [], [], [], [], []
    for project_id in sorted({p for p, _ in tracked}):
        with pipeline_db.connection() as conn:
            scores = inputs.timeline_scores(conn, reference_snapshot, project_id)
            outcomes = inputs.timeline_outcomes(conn, reference_snapshot, project_id)
        obs = inputs.outcome_observations(scores, outcomes, project_id)
        m = seasonal_period(str(inputs.project_row(reference_snapshot, project_id).get("period_grain") or "month"))
        sections = scores.sections[scores.sections["project_id"] == project_id]
        ledger = StudyLedger(optuna.study_factory(tuning))
        for _, brand_id in [pair for pair in tracked if pair[0] == project_id]:
            results: dict[str, ForecastResult] = {}
            for series, y in _brand_series(obs, brand_id).items():
                version = inputs.version_hex(y.dropna().reset_index())
                if not y.notna().any() and series in OUTCOME_COLUMNS:
                    reason = (f"missing outcome: {series} is null for all {len(y)} brand-periods of brand {brand_id} "
                              f"in project {project_id}")
                    summaries.append(_summary_row(project_id, brand_id, series, None, reason, horizon, None, version))
                    continue
                name = study_name(FORECAST_KIND, project_id, brand_id, series, version)
                try:
                    result = forecast_series(y, kind=series_kind(series), m=m, horizon=horizon, settings=tuning,
                                             study_factory=ledger, name=name, seed=seed)
                except ValueError as exc:  # e.g. periods off the project's grain grid
                    summaries.append(_summary_row(project_id, brand_id, series, None, f"forecast failed: {exc}",
                                                  horizon, None, version))
                    continue
                results[series] = result
                model_id = None
                if result.status == "ok":
                    model_id = name
                    path = model_registry.save_artifact(model_store.root(), model_id, result)
                    registry.append(model_registry.RegistryEntry(
                        model_id=model_id, kind=FORECAST_KIND, project_id=project_id, brand_id=brand_id, target=series,
                        study_name=result.study.study_name if result.study else None, status=result.status,
                        validated=result.published_method == result.method and result.tier in ("ets", "tuned"),
                        best_params=result.method_params,
                        cv_metrics={k: result.backtest.get(k) for k in ("mase", "snaive_mase", "rel_mase",
                                                                         "coverage_80", "coverage_95")},
                        data_version=version, code_version=code_version(), artifact_path=str(path),
                        run_id=context.run_id))
                    q = clip_to_valid_range(result.quantiles.copy(), series)
                    quantiles.append(q.assign(project_id=project_id, brand_id=brand_id, series=series,
                                              published_method=result.published_method))
                summaries.append(_summary_row(project_id, brand_id, series, result, None, horizon, model_id, version))
                if result.study is not None:
                    study_rows.append(study_row(f"p{project_id}/b{brand_id}/{series}", summary_dict(result.study),
                                                ledger))
            own = sections[sections["brand_id"] == brand_id]
            latest = own[own["period"] == own["period"].max()]
            weights = dict(zip(latest["section_name"], latest["effective_weight"].astype(float)))
            coherence.append(_coherence(results, weights, project_id, brand_id))
    metadata = {**not_tracked_metadata(untracked), "pairs_tracked": dg.MetadataValue.int(len(tracked))}
    if not tracked:
        return dg.Output({}, metadata=metadata)
    with pipeline_db.connection() as conn:
        model_registry.register(conn, registry)
    summary = json_columns(pd.DataFrame(summaries, columns=SUMMARY_COLUMNS), ["method_params", "backtest"], {})
    frames = {
        "brand_forecasts": (pd.concat(quantiles, ignore_index=True) if quantiles else pd.DataFrame(
            columns=["horizon", "period", *QUANTILE_COLUMNS]))
        .reindex(columns=["project_id", "brand_id", "series", "horizon", "period", *QUANTILE_COLUMNS,
                          "published_method"]),
        "brand_forecast_summaries": summary,
        "brand_forecast_coherence": pd.concat(coherence, ignore_index=True),
    }
    return dg.Output(frames, metadata={**metadata, **_forecast_metadata(summary),
                                       **tuning_metadata(study_rows, started)})


def _forecast_metadata(summary: pd.DataFrame) -> dict:
    ok = summary[summary["status"] == "ok"]
    shown = summary[["brand_id", "series", "tier", "published_method", "rel_mase", "coverage_80", "coverage_95",
                     "health", "reason"]]
    return {
        "series_forecast": dg.MetadataValue.int(len(ok)),
        "series_not_forecast": dg.MetadataValue.int(len(summary) - len(ok)),
        "tiers": dg.MetadataValue.json({str(k): int(v) for k, v in summary["tier"].value_counts().items()}),
        "median_rel_mase": dg.MetadataValue.float(float(np.nanmedian(ok["rel_mase"].astype(float)))
                                                  if ok["rel_mase"].notna().any() else float("nan")),
        "coverage_review": dg.MetadataValue.int(int((ok["health"] == "REVIEW").sum())),
        "forecasts": dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".3f")),
    }
