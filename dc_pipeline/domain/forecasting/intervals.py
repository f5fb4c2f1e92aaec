"""Forecast quantiles calibrated on rolling-origin backtest errors (SPEC §6b "Intervals", "Coverage").

Intervals are symmetric on the model scale (logit for scores, log for positive outcomes) and mapped
back point by point, so they stay inside [0, 100] or above 0 and are skewed on the original scale.

Calibration uses the published model's errors from every rolling origin of the series
(`backtest.calibration_positions`), not only the SPEC's last six:
- a horizon with at least MIN_PER_HORIZON errors gets the split-conformal half-width, the
  ceil((n + 1) L)-th smallest |error| at that horizon (covers at least L for exchangeable errors);
- otherwise the errors are pooled over horizons as |error| / sqrt(h), and the half-width is the
  t prediction quantile t_{k-1}(L) * rms * sqrt(1 + 1/k) * sqrt(h). k is the number of distinct
  target periods: the errors of several origins at one target share its actual, so the 21 errors of
  six origins carry about six independent values, and ranking them as 21 (the finite-sample
  conformal rule) covered 0.66-0.76 of unseen actuals at 80 % in simulation (AR(1) + trend, with
  and without a seasonal swing);
- horizons past the backtest's 6 widen like sqrt(h) from the last backtested one; half-widths never
  shrink with the horizon or the level.
Below MIN_CALIBRATION_ERRORS errors the model's own Gaussian sd is used.

Before this rule the intervals centred the errors on their median, which dropped a forecast's
systematic bias from its interval; the 80 % interval covered 0.63 of the demo portfolio's backtest.

Coverage (`backtest_coverage`) is measured out of sample by blocks: each origin's actuals are
checked against the rule calibrated on the errors of every actual outside that origin's forecast
window. Leaving only the origin out is not enough: neighbouring origins forecast the same actuals,
and with that evaluation coverage read 0.82 where unseen actuals were covered 0.73. Judging only the
SPEC's last six origins, by the errors known before them, is not right either: the model was
selected on those origins and errors shrink as the training window grows, so it read 0.89 on the
demo's tuned series, whose hidden last six actuals were covered 0.83. The blocked measure read 0.84.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.special import stdtrit
from scipy.stats import norm

from dc_pipeline.domain.forecasting.candidates import PointForecast
from dc_pipeline.domain.forecasting.transforms import Transform

if TYPE_CHECKING:
    from dc_pipeline.domain.forecasting.backtest import BacktestResult

QUANTILES: tuple[float, ...] = (0.005, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995)
QUANTILE_COLUMNS: tuple[str, ...] = tuple(f"q{q:g}" for q in QUANTILES)
CENTRAL_LEVELS: tuple[float, ...] = (0.8, 0.9, 0.95, 0.99)  # the central intervals the quantiles pair into
COVERAGE_LEVELS: tuple[float, ...] = (0.8, 0.95)
MIN_CALIBRATION_ERRORS = 10  # as many points as coverage needs to be measured (SPEC §6b)
MIN_PER_HORIZON = 20  # errors at one horizon for its own quantile: finite-sample slack <= 1/21
CALIBRATED_HORIZONS = 6  # the backtest's horizons (backtest.MAX_BACKTEST_HORIZON)

IntervalMethod = Literal["calibrated", "model"]


@dataclass(frozen=True)
class CalibrationErrors:
    """Model-scale backtest errors with their horizon and the grid position of their actual."""

    abs_error: np.ndarray
    horizon: np.ndarray
    target: np.ndarray

    @classmethod
    def from_backtest(cls, backtest: BacktestResult) -> CalibrationErrors:
        origins = backtest.origins
        return cls(
            np.abs(np.array([e for o in origins for e in o.z_error], dtype=float)),
            np.array([h for o in origins for h in o.horizons], dtype=int),
            np.array([o.n_train + h - 1 for o in origins for h in o.horizons], dtype=int),
        )

    @property
    def size(self) -> int:
        return int(self.abs_error.size)

    @property
    def origin(self) -> np.ndarray:
        """Grid position of the first forecast target of each error's origin."""
        return self.target - self.horizon + 1

    def subset(self, keep: np.ndarray) -> CalibrationErrors:
        return CalibrationErrors(self.abs_error[keep], self.horizon[keep], self.target[keep])


def conformal_half_width(abs_errors: np.ndarray, level: float) -> float | None:
    """The ceil((n + 1) level)-th smallest error, or None when n is too small for that rank."""
    ordered = np.sort(np.asarray(abs_errors, dtype=float))
    rank = math.ceil((ordered.size + 1) * level - 1e-9)  # the tolerance keeps 20 * 0.95 = 19 exact
    return float(ordered[rank - 1]) if rank <= ordered.size else None


def pooled_half_width(errors: CalibrationErrors, level: float) -> float:
    """Half-width at h = 1 from every horizon's errors scaled by 1/sqrt(h): the t prediction
    quantile with k - 1 degrees of freedom, k the number of distinct target periods."""
    scores = errors.abs_error / np.sqrt(errors.horizon)
    k = max(2, int(np.unique(errors.target).size))
    rms = float(np.sqrt(np.mean(scores**2)))
    # stdtrit is what scipy.stats.t.ppf computes, without its argument checks (28 us a call, against 1 us): the
    # coverage check calibrates a rule per origin, thousands of calls per project.
    return float(stdtrit(k - 1, 0.5 + level / 2) * rms * math.sqrt(1 + 1 / k))


@dataclass(frozen=True)
class IntervalRule:
    """How the quantiles of a forecast are built. `widths[h - 1, j]` is the model-scale half-width
    of CENTRAL_LEVELS[j] at horizon h (calibrated); the model rule scales the forecast's own sd."""

    method: IntervalMethod
    widths: np.ndarray  # [CALIBRATED_HORIZONS, len(CENTRAL_LEVELS)]; empty for the model rule
    n_errors: int
    n_targets: int
    per_horizon: tuple[int, ...] = ()  # horizons with their own conformal quantile (at 80 %)

    def half_widths(self, forecast: PointForecast) -> np.ndarray:
        """[horizon, level] half-widths for every horizon of `forecast`."""
        n = len(forecast.mean)
        if self.method == "model":
            out = np.asarray(forecast.sd, dtype=float)[:, None] * norm.ppf(0.5 + np.array(CENTRAL_LEVELS) / 2)
        else:
            h = np.arange(1, n + 1)
            last = min(n, CALIBRATED_HORIZONS)
            beyond = self.widths[last - 1][None, :] * np.sqrt(h[last:] / last)[:, None]
            out = np.vstack([self.widths[:last], beyond])
        return np.maximum.accumulate(np.maximum.accumulate(out, axis=0), axis=1)

    def offsets(self, forecast: PointForecast) -> np.ndarray:
        """[horizon, quantile] offsets from the point forecast for each QUANTILES level."""
        widths = self.half_widths(forecast)
        columns = []
        for q in QUANTILES:
            if q == 0.5:
                columns.append(np.zeros(len(widths)))
            else:
                level = CENTRAL_LEVELS.index(round(abs(2 * q - 1), 6))
                columns.append(math.copysign(1.0, q - 0.5) * widths[:, level])
        return np.column_stack(columns)


def model_rule() -> IntervalRule:
    return IntervalRule("model", np.empty((0, len(CENTRAL_LEVELS))), 0, 0)


def interval_rule(errors: CalibrationErrors) -> IntervalRule:
    """The calibrated rule for these errors, or the model rule when they are too few."""
    if errors.size < MIN_CALIBRATION_ERRORS:
        return model_rule()
    widths = np.empty((CALIBRATED_HORIZONS, len(CENTRAL_LEVELS)))
    pooled = np.array([pooled_half_width(errors, level) for level in CENTRAL_LEVELS])
    own = []
    for h in range(1, CALIBRATED_HORIZONS + 1):
        at_h = errors.abs_error[errors.horizon == h]
        widths[h - 1] = pooled * math.sqrt(h)
        if at_h.size >= MIN_PER_HORIZON:
            own.append(h)
            for j, level in enumerate(CENTRAL_LEVELS):
                width = conformal_half_width(at_h, level)
                if width is not None:
                    widths[h - 1, j] = width
    return IntervalRule("calibrated", widths, errors.size, int(np.unique(errors.target).size), tuple(own))


def backtest_coverage(errors: CalibrationErrors) -> dict:
    """Share of the backtest actuals inside the 80 % and 95 % intervals, each origin judged by the
    rule calibrated on the errors of the actuals outside its forecast window. Origins whose
    complement holds too few errors to calibrate on are not counted."""
    inside: dict[float, list[np.ndarray]] = {level: [] for level in COVERAGE_LEVELS}
    n_points = n_origins = 0
    origin = errors.origin
    for position in np.unique(origin):
        mine = errors.subset(origin == position)
        window = (errors.target >= mine.target.min()) & (errors.target <= mine.target.max())
        rule = interval_rule(errors.subset(~window))
        if rule.method != "calibrated":
            continue
        horizons = int(mine.horizon.max())
        widths = rule.half_widths(PointForecast(np.zeros(horizons), np.zeros(horizons)))[mine.horizon - 1]
        for level in COVERAGE_LEVELS:
            inside[level].append(mine.abs_error <= widths[:, CENTRAL_LEVELS.index(level)])
        n_points += mine.size
        n_origins += 1
    out: dict = {"coverage_n_points": n_points, "coverage_n_origins": n_origins}
    measurable = n_points >= MIN_CALIBRATION_ERRORS
    for level in COVERAGE_LEVELS:
        key = f"coverage_{round(level * 100)}"
        out[key] = float(np.mean(np.concatenate(inside[level]))) if measurable else None
    out["coverage_reason"] = (
        None if measurable else f"coverage not measurable: {n_points} points, {MIN_CALIBRATION_ERRORS} needed"
    )
    return out


def quantile_frame(
    forecast: PointForecast, periods: pd.DatetimeIndex, transform: Transform, rule: IntervalRule
) -> pd.DataFrame:
    """Columns horizon, period, q0.005 ... q0.995 on the original scale, monotone in q."""
    z = forecast.mean[:, None] + rule.offsets(forecast)
    values = np.maximum.accumulate(transform.inverse(z), axis=1)  # guard monotonicity after rounding
    frame = pd.DataFrame(values, columns=list(QUANTILE_COLUMNS))
    frame.insert(0, "period", periods)
    frame.insert(0, "horizon", np.arange(1, len(periods) + 1))
    return frame


def empty_quantile_frame() -> pd.DataFrame:
    frame = pd.DataFrame({"horizon": pd.Series(dtype="int64"), "period": pd.Series(dtype="datetime64[ns]")})
    for col in QUANTILE_COLUMNS:
        frame[col] = pd.Series(dtype=float)
    return frame
