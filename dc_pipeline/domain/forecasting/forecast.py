"""Public entry point: forecast one series with the tier its length allows (SPEC §6b).

| n observed      | tier  | method                                                     |
| < 4             | none  | no forecast                                                |
| 4 .. 7          | naive | last value, PI from sd of first differences * sqrt(h)      |
| 8 .. < 2m + 4   | ets   | SES / Holt / damped Holt chosen by AICc, rolling origin    |
| >= 2m + 4       | tuned | Optuna over ETS, SARIMAX and ridge-on-lags, rolling origin |

A validated tier publishes its model only if it beats the seasonal naive out of sample
(rel_MASE < 1); otherwise the seasonal naive is published with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import optuna
import pandas as pd

from dc_pipeline.domain.forecasting.backtest import BacktestResult, calibration_positions, run_backtest
from dc_pipeline.domain.forecasting.candidates import (
    FIT_ERRORS,
    NON_SEASONAL_ETS,
    CandidateSpec,
    fit_forecast,
    warm_chain,
)
from dc_pipeline.domain.forecasting.grid import GridSeries, clean_observations, months_per_period, to_grid
from dc_pipeline.domain.forecasting.intervals import (
    CalibrationErrors,
    backtest_coverage,
    empty_quantile_frame,
    interval_rule,
    model_rule,
    quantile_frame,
)
from dc_pipeline.domain.forecasting.transforms import SeriesKind, Transform, make_transform
from dc_pipeline.domain.forecasting.tuned import TuningOutcome, tune
from dc_pipeline.domain.thread_limits import single_threaded
from dc_pipeline.domain.tuning import StudySummary, TuningSettings, in_memory_study, make_pruner, make_sampler

MIN_FORECAST = 4
MIN_VALIDATED = 8

Tier = Literal["none", "naive", "ets", "tuned"]
StudyFactory = Callable[[str, str], optuna.Study]


@dataclass
class ForecastResult:
    tier: Tier
    status: Literal["ok", "insufficient_data"]
    reason: str
    method: str | None  # selected candidate label, e.g. "ets(seasonal=none, trend=damped)"
    method_params: dict[str, Any]
    published_method: str | None  # the selected model, or "seasonal_naive" when rel_MASE >= 1
    quantiles: pd.DataFrame  # horizon, period, q0.005 ... q0.995
    backtest: dict[str, Any]
    study: StudySummary | None
    n_observed: int
    interval_method: str | None = None  # "calibrated" (on backtest errors) | "model"
    # seasonal naive point forecast (the benchmark line of the fan chart): horizon, period, seasonal_naive
    benchmark: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["horizon", "period", "seasonal_naive"])
    )

    @property
    def median(self) -> pd.Series:
        """Forecast median indexed by period."""
        return self.quantiles.set_index("period")["q0.5"]


def tier_for(n: int, m: int) -> Tier:
    if n < MIN_FORECAST:
        return "none"
    if n < MIN_VALIDATED:
        return "naive"
    return "ets" if n < 2 * m + 4 else "tuned"


def _no_backtest(reason: str) -> dict[str, Any]:
    return {
        "method": None,
        "n_origins": 0,
        "n_points": 0,
        "mase": None,
        "snaive_mase": None,
        "rel_mase": None,
        "coverage_80": None,
        "coverage_95": None,
        "coverage_n_points": 0,
        "coverage_n_origins": 0,
        "coverage_reason": reason,
        "origins": [],
    }


def _no_forecast(n: int, reason: str) -> ForecastResult:
    return ForecastResult(
        tier="none",
        status="insufficient_data",
        reason=reason,
        method=None,
        method_params={},
        published_method=None,
        quantiles=empty_quantile_frame(),
        backtest=_no_backtest("no backtest: no forecast"),
        study=None,
        n_observed=n,
    )


def _forecaster(spec: CandidateSpec, m: int):
    """A fresh backtest's forecaster, warm-started along its origins."""
    return warm_chain(lambda z, h, season0, start: fit_forecast(spec, z, h, m, season0, start))


def _select_ets_by_aicc(series: GridSeries, horizon: int) -> CandidateSpec:
    """SES, Holt and damped Holt on the full series; the lowest finite AICc wins, SES on ties or
    when no AICc is finite (the simplest model is the safe default on short series)."""
    scored: list[tuple[float, int, CandidateSpec]] = []
    for order, spec in enumerate(NON_SEASONAL_ETS):
        try:
            fc = fit_forecast(spec, series.z, horizon, series.m)
        except FIT_ERRORS:
            continue
        scored.append((fc.aicc if fc.aicc is not None else np.inf, order, spec))
    if not scored:
        return NON_SEASONAL_ETS[0]  # _publish reports why it could not be backtested
    return min(scored, key=lambda f: (f[0], f[1]))[2]


def _benchmark_frame(series: GridSeries, transform: Transform, horizon: int) -> pd.DataFrame:
    fc = fit_forecast(CandidateSpec("seasonal_naive"), series.z, horizon, series.m)
    return pd.DataFrame(
        {
            "horizon": np.arange(1, horizon + 1),
            "period": series.future_periods(horizon),
            "seasonal_naive": transform.inverse(fc.mean),
        }
    )


def calibration_errors(
    series: GridSeries, transform: Transform, spec: CandidateSpec, horizon: int, backtest: BacktestResult
) -> CalibrationErrors:
    """The errors of `spec` from every rolling origin: `backtest` (the SPEC origins) plus the
    earlier origins the model can be fitted at."""
    done = {o.n_train for o in backtest.origins}
    earlier = [p for p in calibration_positions(series) if p not in done]
    extra = run_backtest(
        series, transform, _forecaster(spec, series.m), horizon, positions=earlier, skip_unfittable=True
    )
    return CalibrationErrors.from_backtest(BacktestResult(extra.origins + backtest.origins))


def _publish(
    tier: Tier,
    series: GridSeries,
    transform: Transform,
    horizon: int,
    spec: CandidateSpec,
    study: StudySummary | None,
    reason_prefix: str = "",
    reason_override: str | None = None,
    backtest: BacktestResult | None = None,
) -> ForecastResult:
    """Backtest `spec` (unless the tuning already did), apply the publishing rule and build quantiles for the
    published model."""
    failure = None
    try:
        if backtest is None:
            backtest = run_backtest(series, transform, _forecaster(spec, series.m), horizon)
        rel = backtest.rel_mase
    except FIT_ERRORS as exc:
        backtest, rel, failure = BacktestResult(), float("nan"), str(exc)
    if reason_override is not None:
        published, published_bt, reason = spec, backtest, reason_override
    elif np.isfinite(rel) and rel < 1:
        published, published_bt = spec, backtest
        reason = f"model beat seasonal naive: relative MASE {rel:.2f}"
    else:
        published = CandidateSpec("seasonal_naive")
        published_bt = run_backtest(series, transform, _forecaster(published, series.m), horizon)
        if failure is not None:
            reason = f"model could not be backtested ({failure}); seasonal naive published"
        elif np.isnan(rel):
            reason = "model not validated: MASE undefined (flat training windows); seasonal naive published"
        else:
            reason = f"model did not beat seasonal naive: relative MASE {rel:.2f}"
    # Started where the last origin's fit ended, as each origin's fit started from the one before: the backtest
    # judged this procedure.
    final = fit_forecast(published, series.z, horizon, series.m, series.season_of(0), published_bt.last_params)
    calibration = calibration_errors(series, transform, published, horizon, published_bt)
    rule = interval_rule(calibration)
    summary = backtest.summary(spec.label()) if failure is None else _no_backtest(f"no backtest: {failure}")
    if failure is not None:
        summary["method"] = spec.label()
    # Coverage describes the intervals that are published, measured out of sample.
    summary.update(backtest_coverage(calibration))
    summary["coverage_method"] = f"{published.label()} {rule.method} intervals"
    summary["calibration"] = {
        "n_errors": rule.n_errors,
        "n_targets": rule.n_targets,
        "per_horizon": list(rule.per_horizon),
    }
    return ForecastResult(
        tier=tier,
        status="ok",
        reason=reason_prefix + reason,
        method=spec.label(),
        method_params=dict(spec.params),
        published_method=published.label(),
        quantiles=quantile_frame(final, series.future_periods(horizon), transform, rule),
        backtest=summary,
        study=study,
        n_observed=series.n_observed,
        interval_method=rule.method,
        benchmark=_benchmark_frame(series, transform, horizon),
    )


def _default_study(name: str, settings: TuningSettings, seed: int | None) -> optuna.Study:
    if seed is None:
        return in_memory_study(name, "minimize", settings)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=name,
        direction="minimize",
        sampler=make_sampler(settings.sampler, seed),
        pruner=make_pruner(settings.pruner),
    )


def forecast_series(
    y: pd.Series,
    *,
    kind: SeriesKind,
    m: int,
    horizon: int,
    settings: TuningSettings,
    study_factory: StudyFactory | None = None,
    name: str,
    seed: int | None = None,
    tuned: TuningOutcome | None = None,
) -> ForecastResult:
    """Forecast `y` (index: period Timestamps on the m-grid; NaN = not observed) `horizon` periods ahead.

    `study_factory(name, direction)` supplies the Optuna study for the tuned tier (e.g. Postgres
    storage); None uses an in-memory study seeded by sha256(name) (SPEC §6d), or by `seed` when given.
    `tuned`, when given, is the outcome of a study this series took part in (with its own backtest in
    `tuned.backtests[0]`): the tuned tier then publishes its candidate instead of opening a study.
    """
    # The matrices are tiny: multi-threaded BLAS only adds contention (10x slower on a busy host).
    with single_threaded("blas"):
        return _forecast_series(
            y, kind=kind, m=m, horizon=horizon, settings=settings, study_factory=study_factory, name=name, seed=seed,
            tuned=tuned,
        )  # fmt: skip


def tuning_input(y: pd.Series, kind: SeriesKind, m: int) -> tuple[GridSeries, Transform] | None:
    """The grid series and transform the tuned tier tunes `y` on; None when `y` is not in the tuned tier
    (too short, nothing positive to log, or constant)."""
    obs = clean_observations(y)
    if tier_for(len(obs), m) != "tuned" or (kind == "positive" and not (obs > 0).any()):
        return None
    transform = make_transform(kind, obs.to_numpy())
    series = to_grid(obs, transform, m)
    return None if np.ptp(series.z) == 0 else (series, transform)


def _forecast_series(
    y: pd.Series,
    *,
    kind: SeriesKind,
    m: int,
    horizon: int,
    settings: TuningSettings,
    study_factory: StudyFactory | None = None,
    name: str,
    seed: int | None,
    tuned: TuningOutcome | None = None,
) -> ForecastResult:
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1 period, got {horizon}")
    months_per_period(m)
    obs = clean_observations(y)
    n = len(obs)
    tier = tier_for(n, m)
    if tier == "none":
        return _no_forecast(n, f"insufficient history: {n} periods, {MIN_FORECAST} needed")
    if kind == "positive" and not (obs > 0).any():
        return _no_forecast(n, f"no positive value to model on the log scale: {n} periods, all 0")
    transform = make_transform(kind, obs.to_numpy())
    series = to_grid(obs, transform, m)
    if tier != "naive" and np.ptp(series.z) == 0:
        return _publish(
            tier,
            series,
            transform,
            horizon,
            CandidateSpec("seasonal_naive"),
            None,
            reason_override="constant history: nothing to model, the constant is published",
        )

    if tier == "naive":
        spec = CandidateSpec("naive")
        fc = fit_forecast(spec, series.z, horizon, m)
        rule = model_rule()
        return ForecastResult(
            tier="naive",
            status="ok",
            reason=f"unvalidated (n < {MIN_VALIDATED})",
            method=spec.label(),
            method_params={},
            published_method=spec.label(),
            quantiles=quantile_frame(fc, series.future_periods(horizon), transform, rule),
            backtest=_no_backtest(f"no backtest: unvalidated (n < {MIN_VALIDATED})"),
            study=None,
            n_observed=n,
            interval_method=rule.method,
            benchmark=_benchmark_frame(series, transform, horizon),
        )

    if tier == "tuned":
        if tuned is None:
            study = (
                study_factory(name, "minimize") if study_factory is not None else _default_study(name, settings, seed)
            )
            tuned = tune([(series, transform)], horizon, settings, study)
        spec, summary = tuned.spec, tuned.summary
        if spec is not None:
            return _publish("tuned", series, transform, horizon, spec, summary, backtest=tuned.backtests[0])
        # Every trial failed: fall back to the ets tier's choice, and say so.
        spec = _select_ets_by_aicc(series, horizon)
        return _publish(
            "ets",
            series,
            transform,
            horizon,
            spec,
            summary,
            reason_prefix=f"no tuning trial completed ({summary.n_pruned} pruned or infeasible, "
            f"{summary.n_failed} failed); ETS by AICc; ",
        )

    return _publish("ets", series, transform, horizon, _select_ets_by_aicc(series, horizon), None)
