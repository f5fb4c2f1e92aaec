"""Benchmark: where the forecast stage's time goes, and what the study's fit memo saves (SPEC §6b, §6d).

    python bench/bench_forecast_stage.py [--projects 101] [--n-trials 5] [--configs plain,memo] [--profile]

Builds the demo observations in memory (bench_tuning.portfolio_observations) and runs `forecast_project` for
every member brand of each project, as `brand_forecasts` does, with in-memory Optuna studies (no storage round
trips: this measures the fitting). Each configuration runs in turn on the same data:
  - plain: every trial fits its candidate afresh (the study's FitMemo disabled);
  - memo: a study fits each (candidate, series, window) once (tuned.FitMemo).
Printed per configuration: wall and CPU seconds of tuning and of publishing, studies and trials, fits and fit CPU
seconds per phase and candidate family, memo hits, and whether every study's best value and every published
forecast are the same as in the first configuration (the memo must change nothing but the time). --profile
prints the top of a cProfile of the last configuration. The demo itself tunes with OPTUNA_N_TRIALS=5
(work_plan.DEMO_TUNING); the configured budget is 100 trials (config/system_config.json).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_tuning import portfolio_observations  # noqa: E402

from dc_pipeline.domain.forecasting import candidates, forecast, project_tuning, tuned  # noqa: E402
from dc_pipeline.domain.forecasting.brands import forecast_project  # noqa: E402
from dc_pipeline.domain.tuning import TuningSettings, in_memory_study  # noqa: E402

FITS: collections.Counter = collections.Counter()
FIT_SECONDS: collections.Counter = collections.Counter()
PHASE = ["tune"]
_fit_forecast = candidates.fit_forecast


def counted_fit(spec, *args, **kwargs):
    started = time.process_time()
    try:
        return _fit_forecast(spec, *args, **kwargs)
    finally:
        FITS[(PHASE[0], spec.family)] += 1
        FIT_SECONDS[(PHASE[0], spec.family)] += time.process_time() - started


def _plain_forecaster(self, spec, series_index, m):
    """Every fit afresh, warm-started along the backtest's origins as the memo's are."""
    return candidates.warm_chain(lambda z, h, season0, start: tuned.fit_forecast(spec, z, h, m, season0, start))


def run(config: str, observations: dict[int, pd.DataFrame], settings: TuningSettings, profile: bool) -> dict:
    FITS.clear()
    FIT_SECONDS.clear()
    hits, studies = [0], []
    memo_forecaster = tuned.FitMemo.forecaster
    if config == "plain":
        tuned.FitMemo.forecaster = _plain_forecaster
    original_tune = project_tuning.tune

    def timed_tune(group, horizon, settings_, study):
        PHASE[0] = "tune"
        started = (time.perf_counter(), time.process_time())
        memo = tuned.FitMemo()
        ran: dict = {}
        from dc_pipeline.domain.tuning import optimize

        summary = optimize(study, tuned.make_objective(group, horizon, ran, memo), settings_, tuned.DEFAULT_PARAMS)
        hits[0] += memo.hits
        spent["tune_wall"] += time.perf_counter() - started[0]
        spent["tune_cpu"] += time.process_time() - started[1]
        PHASE[0] = "publish"
        if summary.best_value is None or not np.isfinite(summary.best_value):
            return tuned.TuningOutcome(None, summary, [None] * len(group))
        spec = tuned.spec_from_params(summary.best_params)
        return tuned.TuningOutcome(spec, summary, [ran.get((spec.label(), i)) for i in range(len(group))])

    def factory(name, direction):
        study = in_memory_study(name, direction, settings)
        studies.append(study)
        return study

    spent: collections.Counter = collections.Counter()
    project_tuning.tune = timed_tune
    profiler = cProfile.Profile() if profile else None
    results = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        if profiler:
            profiler.enable()
        for project_id, obs in observations.items():
            brands = sorted(int(b) for b in obs["brand_id"].unique())
            for f in forecast_project(obs, project_id, brands, members=brands, m=12, horizon=24, settings=settings,
                                      study_factory=factory, seed=42):  # fmt: skip
                if f.ok:
                    results[(project_id, f.brand_id, f.series)] = f.result.quantiles["q0.5"].to_numpy()
        if profiler:
            profiler.disable()
    finally:
        project_tuning.tune = original_tune
        tuned.FitMemo.forecaster = memo_forecaster
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return {
        "config": config,
        "wall_s": wall,
        "cpu_s": cpu,
        "tune_cpu_s": spent["tune_cpu"],
        "publish_cpu_s": cpu - spent["tune_cpu"],
        "studies": len(studies),
        "trials": sum(len(s.trials) for s in studies),
        "memo_hits": hits[0],
        **{f"{phase}_{family}_fits": n for (phase, family), n in sorted(FITS.items())},
        **{f"{phase}_{family}_s": s for (phase, family), s in sorted(FIT_SECONDS.items())},
        "_best": [s.best_value if any(t.value is not None for t in s.trials) else None for s in studies],
        "_results": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="101")
    parser.add_argument("--n-trials", type=int, default=5)
    parser.add_argument("--configs", default="plain,memo")
    parser.add_argument("--series", default="", help="only these series (comma separated), the others left out")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    for module in (candidates, tuned, forecast):
        module.fit_forecast = counted_fit
    settings = TuningSettings(n_trials=args.n_trials, timeout_s=3600.0, n_jobs=1, sampler="TPE", pruner="median",
                              patience=30)  # fmt: skip
    observations = portfolio_observations([int(p) for p in args.projects.split(",")])
    if args.series:
        kept = ["brand_id", "period", *args.series.split(",")]
        observations = {
            p: obs.assign(**{c: np.nan for c in obs.columns if c not in kept}) for p, obs in observations.items()
        }
    configs = args.configs.split(",")
    rows = [run(c, observations, settings, args.profile and c == configs[-1]) for c in configs]
    best, medians = rows[0]["_best"], rows[0]["_results"]
    for row in rows:
        row["same_best_values"] = row.pop("_best") == best
        results = row.pop("_results")
        row["same_forecasts"] = results.keys() == medians.keys() and all(
            np.allclose(v, medians[k], equal_nan=True) for k, v in results.items()
        )
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    scope = f"projects {args.projects}, {args.series or 'all series'}, {args.n_trials} trials per study"
    print(f"{scope}, in-memory studies, load average {load}")
    print(pd.DataFrame(rows).set_index("config").T.to_markdown(floatfmt=".1f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
