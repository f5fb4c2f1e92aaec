"""Model registry rows and artifacts (real Postgres), and the Optuna budget precedence (SPEC §6, §10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.adapters import model_registry, postgres
from dc_pipeline.defs.models.resources import OptunaResource, TuningConfig
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.domain.json_values import to_jsonable
from dc_pipeline.domain.panels import latest_metric_rows, outcome_observations
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.settings import OptimizationConfig


def _entry(model_id: str, **kw) -> model_registry.RegistryEntry:
    return model_registry.RegistryEntry(
        model_id=model_id,
        kind="outcome_model",
        project_id=7,
        brand_id=None,
        target="revenue",
        study_name=model_id,
        status="ok",
        **kw,
    )


def test_registry_upserts_by_model_id_and_keeps_other_versions(fresh_db, tmp_path):
    path = model_registry.save_artifact(tmp_path, "outcome_model|7|all|revenue|aaaa", {"coef": np.arange(3)})
    assert path.is_relative_to(tmp_path) and model_registry.load_artifact(path)["coef"].tolist() == [0, 1, 2]
    with postgres.connect(fresh_db) as conn:
        model_registry.register(
            conn,
            [
                _entry(
                    "outcome_model|7|all|revenue|aaaa",
                    best_params={"alpha": 0.5},
                    cv_metrics={"skill": np.float64(0.25)},
                    artifact_path=str(path),
                )
            ],
        )
        model_registry.register(
            conn, [_entry("outcome_model|7|all|revenue|aaaa", validated=True, best_params={"alpha": 2.0})]
        )
        model_registry.register(conn, [_entry("outcome_model|7|all|revenue|bbbb")])
        rows = model_registry.entries_for(conn, "outcome_model", 7)
        studies = model_registry.referenced_study_names(conn)
    by_id = {r["model_id"]: r for r in rows}
    assert set(by_id) == {"outcome_model|7|all|revenue|aaaa", "outcome_model|7|all|revenue|bbbb"}
    assert by_id["outcome_model|7|all|revenue|aaaa"]["best_params"] == {"alpha": 2.0}
    assert by_id["outcome_model|7|all|revenue|aaaa"]["validated"] is True
    assert studies == set(by_id)


def test_tuning_budget_precedence_run_over_env_over_config():
    system = OptimizationConfig(n_trials=100, timeout=300, n_jobs=-1, sampler="TPE", pruner="median")
    resource = OptunaResource(database=PostgresResource(url="postgresql://u@h/db"), n_trials=7, n_jobs=1)
    settings = resource.settings(system)
    assert (settings.n_trials, settings.timeout_s, settings.n_jobs, settings.sampler) == (7, 300.0, 1, "TPE")
    run = resource.settings(system, TuningConfig(n_trials=3, sampler="random", timeout_s=9))
    assert (run.n_trials, run.timeout_s, run.n_jobs, run.sampler) == (3, 9.0, 1, "RANDOM")
    assert resource.resolved_storage_url() == "postgresql://u@h/db?options=-csearch_path%3Doptuna"
    with pytest.raises(Exception, match="unknown Optuna sampler"):
        resource.settings(system, TuningConfig(sampler="GRID"))


def test_to_jsonable_turns_non_finite_numbers_into_null():
    assert to_jsonable({"a": np.float64("nan"), "b": [np.int64(2), float("inf")], "c": np.bool_(True)}) == {
        "a": None,
        "b": [2, None],
        "c": True,
    }


def _scores() -> DcScores:
    period, earlier = pd.Timestamp("2024-02-01"), pd.Timestamp("2024-01-01")
    metrics = pd.DataFrame(
        {
            "project_id": 5,
            "brand_id": [1, 1, 2, 2, 1],
            "period": [period, period, period, period, earlier],
            "metric_id": [10, 11, 10, 11, 10],
            "section_name": "Marketplace",
            "platform_name": "Amazon",
            "metric_name": ["ratings", "reviews", "ratings", "reviews", "ratings"],
            "directed_score": [60.0, 70.0, 80.0, 65.0, 10.0],
            "effective_weight": [0.5, 0.5, 0.5, 0.5, 1.0],
            "contribution": 0.0,
            "shortfall": 0.0,
        }
    )
    brands = pd.DataFrame(
        {
            "project_id": [5, 5, 9],
            "brand_id": [1, 2, 1],
            "period": [period, period, period],
            "dc_score": [65.0, 72.5, 50.0],
        }
    )
    sections = pd.DataFrame(
        {
            "project_id": [5, 5],
            "brand_id": [1, 2],
            "period": [period, period],
            "section_name": "Marketplace",
            "section_score": [65.0, 72.5],
            "contribution": 0.0,
            "effective_weight": 1.0,
        }
    )
    return DcScores(brands=brands, sections=sections, platforms=pd.DataFrame(), metrics=metrics)


def test_latest_metric_rows_carry_cohort_best_and_effort_cost():
    costs = pd.DataFrame({"project_id": 5, "metric_id": [10, 11], "effort_cost": [1.5, 0.75]})
    rows = latest_metric_rows(_scores(), costs, 5, 1).set_index("metric_id")
    assert rows["period"].nunique() == 1 and rows["period"].iloc[0] == pd.Timestamp("2024-02-01")
    assert rows.loc[10, "best_score"] == 80.0 and rows.loc[11, "best_score"] == 70.0  # best among the brands
    assert rows.loc[10, "effort_cost"] == 1.5 and rows.loc[10, "directed_score"] == 60.0


def test_outcome_observations_prefer_the_partition_project_on_overlap():
    outcomes = pd.DataFrame(
        {"project_id": [5, 9], "brand_id": [1, 1], "period": pd.Timestamp("2024-02-01"), "revenue": [100.0, 999.0]}
    )
    obs = outcome_observations(_scores(), outcomes, 5)
    row = obs[obs["brand_id"] == 1].iloc[0]
    assert row["dc"] == 65.0 and row["revenue"] == 100.0 and row["Marketplace"] == 65.0
    assert np.isnan(row["market_share"])  # an outcome nobody reports is NaN, not dropped
