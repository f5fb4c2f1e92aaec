"""Tuned tier (SPEC §6b, n >= 2m + 4): Optuna search over ETS, SARIMAX and ridge-on-lags.

The objective is the mean backtest MASE; the running mean is reported after every origin so the
pruner can stop hopeless trials early. A candidate that cannot be fitted at some origin (e.g. a
seasonal model on a window shorter than two seasons) is pruned with the reason in the trial's
`infeasible` user attribute: TPE ranks pruned trials below completed ones and learns to avoid
them, whereas failed trials are ignored by the sampler and would be proposed again and again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from dc_pipeline.domain.forecasting.backtest import run_backtest
from dc_pipeline.domain.forecasting.candidates import FIT_ERRORS, CandidateSpec, fit_forecast
from dc_pipeline.domain.forecasting.grid import GridSeries
from dc_pipeline.domain.forecasting.transforms import Transform
from dc_pipeline.domain.tuning import StudySummary, TuningSettings, optimize

# Enqueued first so the study reports the improvement of tuning over plain SES.
DEFAULT_PARAMS: dict[str, Any] = {"family": "ets", "ets_trend": "none", "ets_seasonal": "none"}


def suggest_spec(trial: optuna.Trial, m: int) -> CandidateSpec:
    family = trial.suggest_categorical("family", ["ets", "sarimax", "ridge"])
    if family == "ets":
        return CandidateSpec(
            "ets",
            {
                "trend": trial.suggest_categorical("ets_trend", ["none", "add", "damped"]),
                "seasonal": trial.suggest_categorical("ets_seasonal", ["none", "add"]),
            },
        )
    if family == "sarimax":
        return CandidateSpec(
            "sarimax",
            {
                "p": trial.suggest_int("sarimax_p", 0, 2),
                "d": trial.suggest_int("sarimax_d", 0, 1),
                "q": trial.suggest_int("sarimax_q", 0, 2),
                "P": trial.suggest_int("sarimax_P", 0, 1),
                "D": trial.suggest_int("sarimax_D", 0, 1),
                "Q": trial.suggest_int("sarimax_Q", 0, 1),
            },
        )
    return CandidateSpec(
        "ridge",
        {
            "lags": trial.suggest_int("ridge_lags", 1, m),
            "alpha": trial.suggest_float("ridge_alpha", 1e-3, 1e3, log=True),
            "month_dummies": trial.suggest_categorical("ridge_month_dummies", [False, True]),
        },
    )


def spec_from_params(params: dict[str, Any]) -> CandidateSpec:
    """Rebuild the candidate from a trial's params (the inverse of `suggest_spec`)."""
    family = params["family"]
    prefix = f"{family}_"
    inner = {k[len(prefix) :]: v for k, v in params.items() if k.startswith(prefix)}
    if family == "ridge":
        inner = {
            "lags": int(inner["lags"]),
            "alpha": float(inner["alpha"]),
            "month_dummies": bool(inner["month_dummies"]),
        }
    if family == "sarimax":
        inner = {k: int(v) for k, v in inner.items()}
    return CandidateSpec(family, inner)


def make_objective(series: GridSeries, transform: Transform, horizon: int) -> Callable[[optuna.Trial], float]:
    def objective(trial: optuna.Trial) -> float:
        spec = suggest_spec(trial, series.m)

        def report(step: int, running_mase: float) -> None:
            if np.isfinite(running_mase):
                trial.report(running_mase, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()

        try:
            result = run_backtest(
                series, transform, lambda z, h, s0: fit_forecast(spec, z, h, series.m, s0), horizon, on_origin=report
            )
        except FIT_ERRORS as exc:
            trial.set_user_attr("infeasible", str(exc)[:200])
            raise optuna.TrialPruned() from exc
        if not np.isfinite(result.mase):
            trial.set_user_attr("infeasible", "MASE undefined at every origin (flat training windows)")
            raise optuna.TrialPruned()
        return result.mase

    return objective


def tune(
    series: GridSeries, transform: Transform, horizon: int, settings: TuningSettings, study: optuna.Study
) -> tuple[CandidateSpec | None, StudySummary]:
    summary = optimize(study, make_objective(series, transform, horizon), settings, default_params=DEFAULT_PARAMS)
    if summary.best_value is None or not np.isfinite(summary.best_value):
        return None, summary
    return spec_from_params(summary.best_params), summary
