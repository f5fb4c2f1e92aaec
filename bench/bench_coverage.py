"""Benchmark: forecast interval coverage of the demo portfolio, before and after calibration (SPEC §6b).

    python bench/bench_coverage.py [--n-trials 10] [--projects 101,102,103,104] [--holdout]

Every DC, section and outcome series of every brand of the generated demo projects is forecast in
memory with `forecast_series` (the tuned tier with --n-trials Optuna trials). Two interval rules are
scored on the published model's rolling-origin backtest:
  - before: the rule used until issue 11: backtest errors divided by the model's sd, centred on
    their median, empirical quantiles; coverage with each origin left out of the calibration;
  - after: the calibrated rule of `domain/forecasting/intervals.py`, coverage by blocks as stored per
    series (each origin judged by the rule calibrated on the errors of the actuals outside its window).
With --holdout the last 6 actuals of every series long enough to stay in a validated tier are hidden,
the series is forecast again, and the share of hidden actuals inside the published intervals is
printed too: the coverage a user would have seen.

Printed per rule and level: mean coverage over series, its spread (sd, and the share of series more
than 10 points off nominal, which makes a forecast's health REVIEW), the number of series and points.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tuning import portfolio_observations  # noqa: E402

from dc_pipeline.domain.forecasting import forecast_series  # noqa: E402
from dc_pipeline.domain.forecasting.backtest import run_backtest  # noqa: E402
from dc_pipeline.domain.forecasting.brands import series_kind  # noqa: E402
from dc_pipeline.domain.forecasting.candidates import CandidateSpec, fit_forecast  # noqa: E402
from dc_pipeline.domain.forecasting.grid import clean_observations, to_grid  # noqa: E402
from dc_pipeline.domain.forecasting.transforms import make_transform  # noqa: E402
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS  # noqa: E402
from dc_pipeline.domain.tuning import TuningSettings  # noqa: E402

HOLDOUT = 6
MIN_HOLDOUT_HISTORY = 8  # the shortened series must stay in a backtested tier


def _spec(result) -> CandidateSpec:
    family = result.published_method.split("(")[0]
    params = result.method_params if result.published_method == result.method else {}
    return CandidateSpec(family, params)


def _centred_quantiles(std_errors: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """The rule before issue 11: sample quantiles of the standardised errors centred on their median,
    tails past the sample's reach extended with the Gaussian ratio."""
    n = std_errors.size
    median = float(np.median(std_errors))
    low_edge, high_edge = 1.0 / n, 1.0 - 1.0 / n
    out = []
    for q in levels:
        if low_edge <= q <= high_edge:
            out.append(np.quantile(std_errors, q))
        else:
            edge = low_edge if q < low_edge else high_edge
            out.append(median + (np.quantile(std_errors, edge) - median) * norm.ppf(q) / norm.ppf(edge))
    return np.maximum.accumulate(np.array(out) - median)


def before_coverage(y: pd.Series, kind: str, result) -> tuple[float, float, int] | None:
    """Coverage of the pre-issue-11 rule on the published model's backtest (leave one origin out)."""
    obs = clean_observations(y)
    transform = make_transform(kind, obs.to_numpy())
    series = to_grid(obs, transform, 12)
    spec, sds = _spec(result), []

    def forecaster(z, h, season0):
        fc = fit_forecast(spec, z, h, series.m, season0)
        sds.append(fc.sd)
        return fc

    backtest = run_backtest(series, transform, forecaster, 12)
    if backtest.n_points < 10:
        return None
    errors = [np.asarray(o.z_error) for o in backtest.origins]
    sd = [s[np.asarray(o.horizons) - 1] for s, o in zip(sds, backtest.origins)]
    inside80, inside95 = [], []
    for i in range(len(errors)):
        others_e = np.concatenate([e for j, e in enumerate(errors) if j != i])
        others_sd = np.concatenate([s for j, s in enumerate(sd) if j != i])
        std = others_e[others_sd > 0] / others_sd[others_sd > 0]
        if std.size < 2:
            continue
        lo95, lo80, hi80, hi95 = _centred_quantiles(std, (0.025, 0.1, 0.9, 0.975))
        inside80 += list((errors[i] >= lo80 * sd[i]) & (errors[i] <= hi80 * sd[i]))
        inside95 += list((errors[i] >= lo95 * sd[i]) & (errors[i] <= hi95 * sd[i]))
    if not inside80:
        return None
    return float(np.mean(inside80)), float(np.mean(inside95)), len(inside80)


def holdout_coverage(y: pd.Series, kind: str, settings: TuningSettings, name: str) -> tuple[float, float, int] | None:
    observed = y.dropna()
    if len(observed) < MIN_HOLDOUT_HISTORY + HOLDOUT:
        return None
    cut = observed.index[-HOLDOUT]
    history, hidden = y[y.index < cut], observed[observed.index >= cut]
    result = forecast_series(history, kind=kind, m=12, horizon=HOLDOUT, settings=settings, name=name, seed=42)
    q = result.quantiles.set_index("period").reindex(hidden.index)
    inside80 = (q["q0.1"] <= hidden) & (hidden <= q["q0.9"])
    inside95 = (q["q0.025"] <= hidden) & (hidden <= q["q0.975"])
    return float(inside80.mean()), float(inside95.mean()), int(len(hidden))


def _row(rule: str, level: float, values: list[tuple[float, int]]) -> dict:
    cov = np.array([v for v, _ in values])
    return {
        "rule": rule,
        "nominal": level,
        "mean": cov.mean(),
        "sd": cov.std(ddof=1),
        "p10": np.quantile(cov, 0.1),
        "p90": np.quantile(cov, 0.9),
        "off_10pp": float(np.mean(np.abs(cov - level) > 0.10)),
        "series": len(cov),
        "points": int(sum(n for _, n in values)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-trials", type=int, default=10)
    parser.add_argument("--projects", default="101,102,103,104")
    parser.add_argument("--holdout", action="store_true")
    args = parser.parse_args(argv)
    settings = TuningSettings(
        n_trials=args.n_trials, timeout_s=60.0, n_jobs=1, sampler="TPE", pruner="median", patience=30
    )
    started = time.perf_counter()
    rows: dict[str, dict[float, list[tuple[float, int]]]] = {}
    tiers: dict[str, int] = {}
    for project_id, obs in portfolio_observations([int(p) for p in args.projects.split(",")]).items():
        for brand_id, own in obs.groupby("brand_id"):
            own = own.set_index("period").sort_index()
            for name in ["dc", *SECTIONS, *OUTCOME_COLUMNS]:
                y, kind = own[name].astype(float), series_kind(name)
                if not y.notna().any():
                    continue
                label = f"p{project_id}|b{brand_id}|{name}"
                result = forecast_series(y, kind=kind, m=12, horizon=12, settings=settings, name=label, seed=42)
                tiers[result.tier] = tiers.get(result.tier, 0) + 1
                bt = result.backtest
                measured = {"after (calibrated, blocked)": None, "before (centred, leave-one-out)": None}
                if bt.get("coverage_80") is not None:
                    measured["after (calibrated, blocked)"] = (
                        bt["coverage_80"],
                        bt["coverage_95"],
                        bt["coverage_n_points"],
                    )
                if result.tier in ("ets", "tuned"):
                    measured["before (centred, leave-one-out)"] = before_coverage(y, kind, result)
                if args.holdout:
                    measured["after, hidden last 6 actuals"] = holdout_coverage(y, kind, settings, label)
                for rule, value in measured.items():
                    if value is not None:
                        levels = rows.setdefault(rule, {0.8: [], 0.95: []})
                        levels[0.8].append((value[0], value[2]))
                        levels[0.95].append((value[1], value[2]))
    table = pd.DataFrame([_row(rule, level, v) for rule, by_level in rows.items() for level, v in by_level.items()])
    table = table.sort_values(["nominal", "rule"], kind="stable")
    print(
        f"demo portfolio (projects {args.projects}), series by tier {tiers}, {args.n_trials} Optuna trials, "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(table.to_markdown(index=False, floatfmt=".3f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
