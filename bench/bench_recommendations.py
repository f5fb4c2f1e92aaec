"""Benchmark: the recommendation stage's GA tuning, one study per brand against one per project (shared by its
brands, domain/recommendations/project_tuning.py), on the small demo portfolio.

    python bench/bench_recommendations.py [--n-trials 5] [--repeats 3] [--projects all]

Scores every demo project in memory (`compute_dc_scores`), then for each configuration runs every member brand's
recommendation (tuning in in-memory studies with the demo's budget, then the brand's own GA) and prints the
median CPU and wall seconds of the whole stage, the studies and trials run, and the quality of the fronts: each
brand's normalised hypervolume with the project's values against its own tuning (the demo's brands have more
metrics than K, so the exact oracle does not apply). The two configurations alternate within each repeat, so they
see the same machine load (printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.demo.dataset import demo_dataset  # noqa: E402
from dc_pipeline.domain.panels import latest_metric_rows  # noqa: E402
from dc_pipeline.domain.recommendations.project_tuning import ga_study_name, tune_project_ga  # noqa: E402
from dc_pipeline.domain.recommendations.recommend import recommend  # noqa: E402
from dc_pipeline.domain.scoring import compute_dc_scores  # noqa: E402
from dc_pipeline.domain.settings import OptimizerConfig  # noqa: E402
from dc_pipeline.domain.tuning import TuningSettings, in_memory_study  # noqa: E402


def portfolio(project_ids: list[int] | None):
    tables = demo_dataset(size="small", seed=42).tables
    values = tables["normalisedvalue"]
    values = values[values["normalized_value"].between(0, 100)]
    values = values.drop_duplicates(["project_id", "brand_id", "metric_id", "period"], keep=False)
    values = values[values["metric_id"].isin(tables["metrics"]["metric_id"])]
    if project_ids:
        values = values[values["project_id"].isin(project_ids)]
    values = values.assign(period=pd.to_datetime(values["period"]))
    scores = compute_dc_scores(
        values[["project_id", "brand_id", "metric_id", "period", "normalized_value"]], tables["metrics"]
    )
    members = tables["project_brands"].groupby("project_id")["brand_id"].apply(lambda s: sorted(int(b) for b in s))
    projects = sorted(int(p) for p in scores.brands["project_id"].unique())
    return scores, tables["metrics"], {p: members.get(p, []) for p in projects}


def run_stage(scores, metrics, members, settings, config, shared: bool) -> dict:
    studies, trials, hypervolumes = 0, 0, {}

    def factory(n_metrics: int):
        def open_study(name: str, direction: str):
            nonlocal studies
            studies += 1
            return in_memory_study(name, direction, settings)

        return open_study

    cpu, wall = time.process_time(), time.perf_counter()
    for project_id, brands in members.items():
        tuned = None
        if shared:
            found = tune_project_ga(
                scores, metrics, project_id, brands, config=config, settings=settings, study_factory=factory, seed=42
            )
            if found is not None:
                tuned = (found.values, found.summary)
                trials += found.summary.n_complete + found.summary.n_pruned + found.summary.n_failed
        for brand_id in brands:
            rows = latest_metric_rows(scores, metrics, project_id, brand_id)
            if rows.empty:
                continue
            own_study = None if shared else factory(len(rows))
            result = recommend(
                rows, config=config, settings=settings, study_factory=own_study,
                name=ga_study_name(project_id, brand_id, rows), seed=42, tuned=tuned,
            )  # fmt: skip
            if not shared and result.study:
                trials += result.study["n_complete"] + result.study["n_pruned"] + result.study["n_failed"]
            if result.hypervolume is not None:
                hypervolumes[(project_id, brand_id)] = result.hypervolume
    return {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall, "studies": studies,
            "trials": trials, "hypervolume": hypervolumes}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n-trials", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--projects", default="all")
    args = parser.parse_args()
    ids = None if args.projects == "all" else [int(p) for p in args.projects.split(",")]
    scores, metrics, members = portfolio(ids)
    settings = TuningSettings(n_trials=args.n_trials, timeout_s=3600, n_jobs=1)
    config = OptimizerConfig()
    names = {False: "one study per brand", True: "one study per project"}
    runs: dict[bool, list[dict]] = {False: [], True: []}
    loads = []
    for repeat in range(args.repeats):
        loads.append(os.getloadavg()[0])
        for shared in (False, True) if repeat % 2 == 0 else (True, False):
            runs[shared].append(run_stage(scores, metrics, members, settings, config, shared))
    n_pairs = sum(len(b) for b in members.values())
    print(f"{len(members)} projects, {n_pairs} member pairs, {args.n_trials} trials a study, median of "
          f"{args.repeats}; load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"{'configuration':<24}{'CPU s':>8}{'wall s':>8}{'studies':>9}{'trials':>8}{'median HV':>11}")
    for shared, name in names.items():

        def med(key: str, shared=shared) -> float:
            return statistics.median(r[key] for r in runs[shared])

        hv = statistics.median(v for r in runs[shared] for v in r["hypervolume"].values())
        print(
            f"{name:<24}{med('cpu_s'):>8.1f}{med('wall_s'):>8.1f}{med('studies'):>9.0f}{med('trials'):>8.0f}{hv:>11.4f}"
        )
    ratio = statistics.median(s["cpu_s"] / p["cpu_s"] for s, p in zip(runs[True], runs[False]))
    print(f"CPU per project / per brand (median of the repeats' ratios): {ratio:.2f}")
    # Quality: each brand's normalised hypervolume with the project's GA values against its own tuning.
    pairs = [(s["hypervolume"], p["hypervolume"]) for s, p in zip(runs[True], runs[False])]
    ratios = [shared[k] / own[k] for shared, own in pairs for k in own if k in shared and own[k] > 0]
    print(f"hypervolume per project / per brand over {len(ratios)} brand runs: median {statistics.median(ratios):.4f}, "
          f"lowest {min(ratios):.4f}, highest {max(ratios):.4f}")  # fmt: skip


if __name__ == "__main__":
    main()
