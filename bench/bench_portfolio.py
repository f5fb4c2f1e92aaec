"""Compute time of the portfolio stage (SPEC §8): portfolio_analysis's domain call on one project and
cross_project_evolution's over every project, in memory (no Postgres, no Dagster), as the assets call them.

Projects: the demo's largest project (5 brands x 36 months) and a synthetic 20-brand x 36-period project
(demo generator + domain scoring). Each brand's stored Pareto plans are stood in for by its exact front (the
SPEC 6c water-filling oracle) thinned to 50 plans, the most a stored front holds: the allocation's cost
depends on the number of plans, not on how they were found. Evolution runs over the small demo (TechCorp
and 4 projects) and over 4 projects of 20 brands. The machine load matters: compare rows of one run.
Run: .venv/bin/python bench/bench_portfolio.py [--repeats 3]"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import pandas as pd

from dc_pipeline.demo.dataset import demo_dataset
from dc_pipeline.demo.generator import generate
from dc_pipeline.demo.report_inputs import demo_report_data
from dc_pipeline.domain.panels import latest_metric_rows
from dc_pipeline.domain.portfolio.evolution import evolution_tables
from dc_pipeline.domain.portfolio.project import portfolio_tables
from dc_pipeline.domain.recommendations.oracle import water_filling_front
from dc_pipeline.domain.recommendations.plans import MAX_PLANS, knee_index
from dc_pipeline.domain.recommendations.problem import build_problem
from dc_pipeline.domain.scoring import compute_dc_scores
from dc_pipeline.domain.settings import OptimizerConfig

BUDGET_S = 1.0  # per project, like a report


def _largest(tables) -> int:
    return int(tables["normalisedvalue"].groupby("project_id").size().idxmax())


def oracle_plans(data, metrics: pd.DataFrame) -> pd.DataFrame:
    """Per brand, MAX_PLANS points of its exact front in the stored plan shape, the knee marked."""
    config = OptimizerConfig()
    rows = []
    for brand_id in data.brands["brand_id"]:
        decision = latest_metric_rows(data.scores, metrics, data.project_id, int(brand_id))
        problem = build_problem(decision, config.model_copy(update={"max_metrics_changed": len(decision)})).problem
        front = water_filling_front(problem)
        pick = np.unique(np.linspace(1, front.gain.size - 1, MAX_PLANS).astype(int))
        gain, effort = front.gain[pick], front.effort[pick]
        knee = knee_index(gain, effort)
        rows += [
            {
                "project_id": data.project_id,
                "brand_id": int(brand_id),
                "period": decision["period"].iloc[0],
                "plan_id": i,
                "is_knee": i == knee,
                "delta_dc": float(g),
                "effort": float(e),
                "n_metrics_changed": 0,
            }
            for i, (g, e) in enumerate(zip(gain, effort))
        ]
    return pd.DataFrame(rows)


def _time(fn, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    demo = demo_dataset("small").tables
    wide = generate(projects=4, brands_per_project=20, metrics_per_platform=3, periods=36, faulty_project=None).tables
    rows, worst = [], 0.0
    for label, tables in ((f"demo p{_largest(demo)}", demo), ("synthetic 20x36", wide)):
        pid = _largest(tables)
        data = demo_report_data(tables, pid)
        metrics = tables["metrics"]
        plans = oracle_plans(data, metrics[metrics["project_id"] == pid])
        members = data.brands.assign(project_id=pid)
        summaries = plans.groupby("brand_id", as_index=False).size().assign(status="ok", reason=None)

        def analysis(data=data, members=members, plans=plans, summaries=summaries, pid=pid):
            return portfolio_tables(
                pid,
                scores=data.scores,
                members=members,
                grain=data.grain,
                outcomes=data.outcomes,
                plans=plans,
                summaries=summaries,
                alpha=0.05,
            )

        portfolio_tables_once = analysis()
        seconds = _time(analysis, args.repeats)
        worst = max(worst, seconds)
        rows.append(
            (
                label,
                "portfolio_analysis",
                len(members),
                data.scores.brands["period"].nunique(),
                seconds,
                len(portfolio_tables_once["portfolio_comparison"]),
            )
        )
    for label, tables in (("small demo, all projects", demo), ("4 projects x 20 brands", wide)):
        values = tables["normalisedvalue"]
        clean = values[np.isfinite(values["normalized_value"]) & values["normalized_value"].between(0, 100)]
        clean = clean.drop_duplicates(["project_id", "brand_id", "metric_id", "period"], keep=False)
        scores = compute_dc_scores(clean.assign(period=pd.to_datetime(clean["period"])), tables["metrics"])

        def evolution(scores=scores, tables=tables):
            return evolution_tables(scores, tables["metrics"], tables["projects"])

        steps = len(evolution()["brand_evolution"])
        seconds = _time(evolution, args.repeats)
        rows.append(
            (label, "cross_project_evolution", tables["brands"].shape[0], tables["projects"].shape[0], seconds, steps)
        )
    print(f"{'data':<26}{'compute':<26}{'brands':>7}{'periods/projects':>18}{'seconds':>9}{'rows':>7}")
    for label, step, brands, periods, seconds, n in rows:
        print(f"{label:<26}{step:<26}{brands:>7}{periods:>18}{seconds:9.3f}{n:>7}")
    print(f"worst portfolio_analysis {worst:.3f} s (budget {BUDGET_S:.1f} s per project)")
    return 0 if worst <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
