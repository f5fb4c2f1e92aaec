"""Benchmark: the accuracy of the published forecasts of the demo projects, and what it cost (SPEC §6b).

    python bench/bench_forecast_accuracy.py [--projects 1,2,101,102,103,104] [--n-trials 5] [--save after.json]
                                            [--before before.json] [--src DIR]

Runs `forecast_project` for every brand of each project as `brand_forecasts` does (in-memory Optuna studies,
seed 42, the demo's 5 trials) and prints per series kind: how many series were backtested, the median and mean
backtest MASE and relative MASE (MASE / seasonal naive's MASE on the same origins) of the published forecasts, the
share whose tuned or AICc-chosen model beat the seasonal naive (rel_MASE < 1, so it was published), the mean
out-of-sample coverage of the published 80 % and 95 % intervals (backtest_coverage) and the CPU seconds.

A change to the fitting is judged against the code before it: run with `--src` on a checkout of the old code and
`--save before.json`, then on the new code with `--before before.json`. The paired comparison series by series
then prints the mean change of MASE, relative MASE and coverage with a 95 % t interval, and the Wilcoxon
signed-rank p-value of the MASE changes: an interval containing 0 (and a large p) means no change beyond noise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="1,2,101,102,103,104")
    parser.add_argument("--n-trials", type=int, default=5)
    parser.add_argument("--save", help="write the per-series results to this JSON file")
    parser.add_argument("--before", help="per-series results of the code before (a --save file) to compare with")
    parser.add_argument("--src", default=str(ROOT), help="the checkout whose dc_pipeline is measured")
    return parser.parse_args(argv)


def forecast_rows(project_ids: list[int], n_trials: int) -> tuple[list[dict], dict[int, float]]:
    """One row per forecast series with a backtest; CPU seconds per project."""
    from bench_tuning import portfolio_observations

    from dc_pipeline.domain.forecasting.brands import forecast_project, series_kind
    from dc_pipeline.domain.tuning import TuningSettings, in_memory_study

    settings = TuningSettings(n_trials=n_trials, timeout_s=3600.0, n_jobs=1, sampler="TPE", pruner="median",
                              patience=30)  # fmt: skip
    rows, cpu = [], {}
    for project_id, obs in portfolio_observations(project_ids).items():
        brands = sorted(int(b) for b in obs["brand_id"].unique())
        started = time.process_time()
        forecasts = forecast_project(
            obs, project_id, brands, members=brands, m=12, horizon=24, settings=settings, seed=42,
            study_factory=lambda name, d: in_memory_study(name, d, settings),
        )  # fmt: skip
        cpu[project_id] = time.process_time() - started
        for f in forecasts:
            bt = f.result.backtest if f.ok else None
            if not bt or bt.get("snaive_mase") is None:
                continue
            model_published = f.result.published_method == f.result.method
            mase = bt["mase"] if model_published else bt["snaive_mase"]
            rows.append({
                "key": f"{project_id}/{f.brand_id}/{f.series}", "kind": series_kind(f.series), "tier": f.result.tier,
                "method": f.result.method, "published": f.result.published_method, "mase": mase,
                "rel_mase": None if mase is None or not bt["snaive_mase"] else mase / bt["snaive_mase"],
                "beat": bool(bt["rel_mase"] is not None and bt["rel_mase"] < 1),
                "coverage_80": bt.get("coverage_80"), "coverage_95": bt.get("coverage_95"),
            })  # fmt: skip
    return rows, cpu


def summary_table(rows: list[dict], cpu: dict[int, float]):
    import pandas as pd

    frame = pd.DataFrame(rows)
    table = frame.groupby("kind").agg(
        series=("key", "size"),
        mase_median=("mase", "median"),
        mase_mean=("mase", "mean"),
        rel_mase_median=("rel_mase", "median"),
        rel_mase_mean=("rel_mase", "mean"),
        beat_snaive=("beat", "mean"),
        coverage_80=("coverage_80", "mean"),
        coverage_95=("coverage_95", "mean"),
    )
    table.loc["all"] = [len(frame), frame["mase"].median(), frame["mase"].mean(), frame["rel_mase"].median(),
                        frame["rel_mase"].mean(), frame["beat"].mean(), frame["coverage_80"].mean(),
                        frame["coverage_95"].mean()]  # fmt: skip
    table["cpu_s"] = float("nan")
    table.loc["all", "cpu_s"] = sum(cpu.values())
    return table


def paired_changes(before: list[dict], after: list[dict]):
    """After minus before, series by series (the series both backtested): mean, 95 % t interval, Wilcoxon p."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    joined = pd.DataFrame(before).merge(pd.DataFrame(after), on="key", suffixes=("_before", "_after"))
    out = {}
    for column in ("mase", "rel_mase", "coverage_80", "coverage_95"):
        d = (joined[f"{column}_after"] - joined[f"{column}_before"]).astype(float).dropna().to_numpy()
        half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
        nonzero = d[d != 0]
        p = stats.wilcoxon(nonzero).pvalue if nonzero.size >= 10 else float("nan")
        out[column] = {
            "pairs": d.size, "changed": int(nonzero.size), "mean_change": d.mean(), "ci95_low": d.mean() - half,
            "ci95_high": d.mean() + half, "median_change": np.median(d), "wilcoxon_p": p,
        }  # fmt: skip
    same = (joined["published_before"] == joined["published_after"]).mean()
    out["same_published_method (share)"] = {"pairs": len(joined), "mean_change": same}
    return pd.DataFrame(out).T


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sys.path[:0] = [args.src, str(ROOT / "bench")]
    import dc_pipeline

    rows, cpu = forecast_rows([int(p) for p in args.projects.split(",")], args.n_trials)
    if args.save:
        Path(args.save).write_text(json.dumps({"rows": rows, "cpu": cpu}))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"dc_pipeline from {Path(dc_pipeline.__file__).parent}; projects {args.projects}, {args.n_trials} trials "
          f"per study, in-memory studies, load average {load}")  # fmt: skip
    after = summary_table(rows, cpu)
    if not args.before:
        print(after.to_markdown(floatfmt=".3f"))
        return 0
    saved = json.loads(Path(args.before).read_text())
    before = summary_table(saved["rows"], {int(k): v for k, v in saved["cpu"].items()})
    import pandas as pd

    both = pd.concat({"before": before, "after": after}, axis=0).swaplevel().sort_index(level=0, sort_remaining=False)
    print(both.to_markdown(floatfmt=".3f"))
    print("\nPaired change, after - before, per series:")
    print(paired_changes(saved["rows"], rows).to_markdown(floatfmt=".4f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
