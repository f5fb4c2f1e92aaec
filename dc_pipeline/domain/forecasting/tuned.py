"""Tuned tier (SPEC §6b, n >= 2m + 4): Optuna search over ETS, SARIMAX and ridge-on-lags.

The objective is the mean backtest MASE; the running mean is reported after every origin so the
pruner can stop hopeless trials early. One study may serve several series (the same series of a
project's brands): the objective is then the mean MASE over them. A candidate that cannot be fitted
at some origin (e.g. a seasonal model on a window shorter than two seasons) is pruned with the reason in the trial's
`infeasible` user attribute: TPE ranks pruned trials below completed ones and learns to avoid
them, whereas failed trials are ignored by the sampler and would be proposed again and again.

TPE proposes the same categorical candidate again and again (ETS has 6 configurations, SARIMAX 144): a study
fits each candidate once per series and origin (`FitMemo`). A repeated trial still runs, reports and is
recorded in the study exactly as before; only the refit it would have repeated is skipped. A backtest's fits are
warm-started along its origins (candidates.warm_chain), every trial's from the same first origin, so a memoised fit
is the same whichever trial ran it first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from dc_pipeline.domain.forecasting.backtest import BacktestResult, run_backtest
from dc_pipeline.domain.forecasting.candidates import (
    FIT_ERRORS,
    CandidateSpec,
    PointForecast,
    fit_forecast,
    warm_chain,
)
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


class FitMemo:
    """The fits of one study, by candidate, series and training window: a deterministic fit on the same window
    gives the same forecast (or the same error), so a repeated candidate reuses it. A forecaster serves one
    backtest over the SPEC origins: its fits are warm-started along them, so a window's start is fixed too."""

    def __init__(self) -> None:
        self._fits: dict[tuple, PointForecast | BaseException] = {}
        self.hits = 0

    def forecaster(
        self, spec: CandidateSpec, series_index: int, m: int
    ) -> Callable[[np.ndarray, int, int], PointForecast]:
        candidate = (spec.family, tuple(sorted(spec.params.items())), series_index)

        def fit(z: np.ndarray, h: int, season0: int, start: np.ndarray | None) -> PointForecast:
            key = (*candidate, len(z), h, season0)
            if key not in self._fits:
                try:
                    self._fits[key] = fit_forecast(spec, z, h, m, season0, start)
                except FIT_ERRORS as exc:
                    self._fits[key] = exc
            else:
                self.hits += 1
            found = self._fits[key]
            if isinstance(found, BaseException):
                raise found.with_traceback(None)  # a fresh traceback each time, not one growing per raise
            return found

        return warm_chain(fit)


@dataclass
class TuningOutcome:
    """The best candidate (None when no trial completed), the study summary and the backtest of the best
    candidate on each tuned series, kept from the trial that ran it so publishing does not run it again
    (None for a series whose best trial ran in an earlier materialization of a resumed study)."""

    spec: CandidateSpec | None
    summary: StudySummary
    backtests: list[BacktestResult | None]


def make_objective(
    group: list[tuple[GridSeries, Transform]],
    horizon: int,
    ran: dict[tuple[str, int], BacktestResult],
    memo: FitMemo | None = None,
) -> Callable[[optuna.Trial], float]:
    """Mean backtest MASE of the trial's candidate over the series of `group` (one series, or the same series
    of several brands). With one series the running mean is reported after every origin; with several, after
    every series, so the pruner stops a hopeless candidate before it has been fitted on every brand. Each
    finished backtest is kept in `ran` under (candidate label, series index); fits come from `memo`."""
    m = group[0][0].m  # one project: every series of the group is on the same grain
    memo = memo if memo is not None else FitMemo()

    def objective(trial: optuna.Trial) -> float:
        spec = suggest_spec(trial, m)

        def report(step: int, running_mase: float) -> None:
            if np.isfinite(running_mase):
                trial.report(running_mase, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()

        mases = []
        for i, (series, transform) in enumerate(group):
            try:
                result = run_backtest(
                    series, transform, memo.forecaster(spec, i, m), horizon,
                    on_origin=report if len(group) == 1 else None,
                )  # fmt: skip
            except FIT_ERRORS as exc:
                trial.set_user_attr("infeasible", str(exc)[:200])
                raise optuna.TrialPruned() from exc
            ran[(spec.label(), i)] = result
            mases.append(result.mase)
            if len(group) > 1:
                report(i, _defined_mean(mases))
        value = _defined_mean(mases)
        if not np.isfinite(value):
            trial.set_user_attr("infeasible", "MASE undefined at every origin (flat training windows)")
            raise optuna.TrialPruned()
        return value

    return objective


def _defined_mean(values: list[float]) -> float:
    """Mean over the series whose MASE is defined (a flat series gives MASE no scale)."""
    defined = [v for v in values if np.isfinite(v)]
    return float(np.mean(defined)) if defined else float("nan")


def tune(
    group: list[tuple[GridSeries, Transform]], horizon: int, settings: TuningSettings, study: optuna.Study
) -> TuningOutcome:
    """Tune one candidate for every series of `group` in `study`."""
    ran: dict[tuple[str, int], BacktestResult] = {}
    summary = optimize(study, make_objective(group, horizon, ran), settings, default_params=DEFAULT_PARAMS)
    if summary.best_value is None or not np.isfinite(summary.best_value):
        return TuningOutcome(None, summary, [None] * len(group))
    spec = spec_from_params(summary.best_params)
    return TuningOutcome(spec, summary, [ran.get((spec.label(), i)) for i in range(len(group))])
