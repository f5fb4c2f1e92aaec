"""The model outputs of one demo project built in memory (outcome models, forecasts, recommendations, index
robustness), with the same domain calls as the model assets but in-memory Optuna studies and a small budget.

For report tests, the reports benchmark and offline previews: `demo_report_data(tables, p, **model_outputs(...))`
gives a builder every input it may `need` without Postgres or Dagster."""

from __future__ import annotations

import pandas as pd

from dc_pipeline.demo.report_inputs import clean_values
from dc_pipeline.domain.forecasting.brands import forecast_brand, forecast_tables
from dc_pipeline.domain.index_robustness import robustness_tables
from dc_pipeline.domain.outcome_models.project import fit_project_outcomes, outcome_tables
from dc_pipeline.domain.panels import outcome_effect, outcome_observations
from dc_pipeline.domain.portfolio.project import portfolio_tables
from dc_pipeline.domain.recommendations.tables import recommend_brand, recommendation_tables
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.settings import OptimizerConfig, RobustnessConfig, ScoringConfig
from dc_pipeline.domain.timeline import seasonal_period, series_projects
from dc_pipeline.domain.tuning_settings import TuningSettings

DEMO_TUNING = TuningSettings(n_trials=4, timeout_s=60.0, n_jobs=1, patience=4)
DEMO_OPTIMIZER = OptimizerConfig(ga_max_evaluations=2000)


def model_outputs(
    tables: dict[str, pd.DataFrame],
    project_id: int,
    *,
    horizon: int = 24,
    seed: int = 42,
    tuning: TuningSettings = DEMO_TUNING,
    n_draws: int = 200,
    n_boot: int = 100,
) -> dict[str, object]:
    """{outcome_models, forecasts, recommendations, robustness, portfolio} of `project_id`, keyed like
    ReportData (portfolio: the portfolio_analysis tables computed from these plans and models, SPEC §8)."""
    projects = tables["projects"]
    timeline = list(series_projects(projects, project_id))
    members = tables["project_brands"]
    brand_ids = sorted(int(b) for b in members.loc[members["project_id"] == project_id, "brand_id"])
    values = clean_values(tables["normalisedvalue"])
    values = values[values["project_id"].isin(timeline) & values["brand_id"].isin(brand_ids)]
    metrics = tables["metrics"][tables["metrics"]["project_id"].isin(timeline)]
    scores = compute_dc_scores(values, metrics)
    outcomes = tables["business_outcomes"]
    outcomes = outcomes[outcomes["project_id"].isin(timeline) & outcomes["brand_id"].isin(brand_ids)]
    obs = outcome_observations(scores, outcomes.assign(period=pd.to_datetime(outcomes["period"])), project_id)

    fits = fit_project_outcomes(
        obs,
        project_id,
        settings=tuning,
        study_factory=None,
        confidence_level=0.95,
        min_data_points=10,
        seed=seed,
        n_boot=n_boot,
        code_version="demo",
    )
    models = outcome_tables(fits)
    grain = projects.loc[projects["project_id"] == project_id, "period_grain"].iloc[0]
    forecasts = []
    for brand_id in brand_ids:
        forecasts += forecast_brand(
            obs,
            project_id,
            brand_id,
            m=seasonal_period(grain),
            horizon=horizon,
            settings=tuning,
            study_factory=None,
            seed=seed,
        )
    effect = outcome_effect(models["outcome_model_results"], "revenue")
    own = _own_project(scores, project_id)
    own_metrics = metrics[metrics["project_id"] == project_id]
    plans = [
        recommend_brand(
            own,
            own_metrics,
            project_id,
            brand_id,
            config=DEMO_OPTIMIZER,
            settings=tuning,
            seed=seed,
            effect=effect,
            study_factory=lambda n_metrics: None,
        )
        for brand_id in brand_ids
    ]
    robust = RobustnessConfig(n_draws=n_draws)
    own_values = values[values["project_id"] == project_id]
    recommendations = recommendation_tables(plans)
    portfolio = portfolio_tables(
        project_id,
        scores=scores,
        members=members[members["project_id"] == project_id],
        grain=grain,
        outcomes=outcomes,
        plans=recommendations["brand_recommendation_plans"],
        summaries=recommendations["brand_recommendation_summaries"],
        alpha=0.05,
        revenue_effect=effect,
    )
    return {
        "outcome_models": models["outcome_model_results"],
        "forecasts": forecast_tables(forecasts, scores.sections, horizon),
        "recommendations": recommendations,
        "robustness": robustness_tables(own_values, own_metrics, own, ScoringConfig(), robust, seed),
        "portfolio": portfolio,
    }


def _own_project(scores, project_id: int):
    from dc_pipeline.domain.scoring import DcScores

    return DcScores(**{name: frame[frame["project_id"] == project_id] for name, frame in vars(scores).items()})
