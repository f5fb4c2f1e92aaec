"""Compute and render time per report (SPEC §7): build_report alone, then the HTML page separately.

Projects: the demo's largest project (small demo, project 101: 5 brands x 36 months) and a synthetic
20-brand x 36-period project (demo generator + domain scoring in memory; no Postgres, no Dagster), each with
every model output a report may read (outcome models, forecasts, plans, robustness) built in memory by
demo/model_outputs.py with a small tuning budget: the tables have the stored shapes, which is what report
compute depends on. Building them takes minutes, so they are cached in .dc_pipeline/bench_cache/ (--refresh
rebuilds). Budgets: each report's compute within 1 s, all registered reports of one project within 10 s. The
portfolio stage's compute (portfolio_analysis on the project, cross_project_evolution over the tables' projects)
is timed too; portfolio_analysis, per project like a report, within 1 s.
Run: .venv/bin/python bench/bench_reports.py [--render] [--no-models]"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import statistics
import sys
import time
from functools import partial
from pathlib import Path

from dc_pipeline.demo.dataset import dataset_sha256, demo_dataset
from dc_pipeline.demo.generator import generate
from dc_pipeline.demo.model_outputs import model_outputs
from dc_pipeline.demo.report_inputs import demo_report_data
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import all_builders
from dc_pipeline.domain.tuning_settings import TuningSettings

BUDGET_S = 1.0
PROJECT_BUDGET_S = 10.0
CACHE = Path(".dc_pipeline") / "bench_cache"
BENCH_TUNING = TuningSettings(n_trials=1, timeout_s=30.0, n_jobs=1, patience=1)
DQ = {"score": 0.95, "quarantined_rows": {}}
OUTPUTS = "outcome_models forecasts recommendations robustness portfolio"  # in the cache key: what a cache holds


def _largest(tables) -> int:
    values = tables["normalisedvalue"]
    return int(values.groupby("project_id").size().idxmax())


def _outputs(label: str, tables, pid: int, refresh: bool) -> dict:
    """Model outputs of the project, from the cache when the same tables were benchmarked before."""
    key = hashlib.sha256(f"{label}|{dataset_sha256(tables)}|{BENCH_TUNING}|{OUTPUTS}".encode()).hexdigest()[:16]
    path = CACHE / f"{key}.pkl"
    if path.exists() and not refresh:
        return pickle.loads(path.read_bytes())
    started = time.perf_counter()
    outputs = model_outputs(tables, pid, tuning=BENCH_TUNING, n_boot=50, n_draws=200)
    print(f"{label}: model outputs built in {time.perf_counter() - started:.0f} s (cached in {path})", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(outputs))
    return outputs


def _projects(with_models: bool, refresh: bool):
    demo = demo_dataset("small").tables
    wide = generate(projects=1, brands_per_project=20, metrics_per_platform=3, periods=36, faulty_project=None).tables
    for label, tables in ((f"demo p{_largest(demo)}", demo), ("synthetic 20x36", wide)):
        pid = _largest(tables)
        outputs = _outputs(label, tables, pid, refresh) if with_models else {}
        yield label, tables, demo_report_data(tables, pid, dq=DQ, **outputs)


def _portfolio_rows(label: str, data, tables, repeats: int) -> list[tuple[str, str, float]]:
    """The portfolio stage's compute (SPEC §8) as its assets call it: portfolio_analysis on this project (its
    stored plans), cross_project_evolution over every project of the tables."""
    from dc_pipeline.demo.report_inputs import clean_values
    from dc_pipeline.domain.portfolio.evolution import evolution_tables
    from dc_pipeline.domain.portfolio.project import portfolio_tables
    from dc_pipeline.domain.scoring import compute_dc_scores

    rows = []
    if data.recommendations is not None:
        rec = data.recommendations
        analysis = partial(
            portfolio_tables,
            data.project_id,
            scores=data.scores,
            members=data.brands,
            grain=data.grain,
            outcomes=data.outcomes,
            plans=rec["brand_recommendation_plans"],
            summaries=rec["brand_recommendation_summaries"],
            alpha=0.05,
        )
        rows.append((label, f"portfolio_analysis ({len(data.brands)} brands)", _time(analysis, repeats)))
    scores = compute_dc_scores(clean_values(tables["normalisedvalue"]), tables["metrics"])
    evolution = partial(evolution_tables, scores, tables["metrics"], tables["projects"])
    rows.append((label, f"cross_project_evolution ({len(tables['projects'])} projects)", _time(evolution, repeats)))
    return rows


def _time(fn, repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="also time the HTML page (charts drawn)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--depth", default="detailed", choices=["basic", "standard", "detailed"])
    parser.add_argument("--no-models", action="store_true", help="reports without model outputs (fast setup)")
    parser.add_argument("--refresh", action="store_true", help="rebuild the cached model outputs")
    args = parser.parse_args(argv)
    params = ReportParams(analysis_depth=args.depth)
    rows, worst, totals, portfolio = [], 0.0, {}, []
    for label, tables, data in _projects(not args.no_models, args.refresh):
        portfolio += _portfolio_rows(label, data, tables, args.repeats)
        for report_id, builder in all_builders().items():
            build_report(builder, data, params)  # warm caches and lazy imports
            compute = _time(lambda b=builder, d=data: build_report(b, d, params), args.repeats)
            render = None
            if args.render:
                from dc_pipeline.domain.reports.render import render_html

                envelope = build_report(builder, data, params)
                render = _time(lambda e=envelope: render_html(e), 1)
            worst = max(worst, compute)
            totals[label] = totals.get(label, 0.0) + compute
            rows.append((label, report_id, compute, render))
    print(f"{'project':<18}{'report':<34}{'compute s':>10}{'render s':>10}")
    for label, report_id, compute, render in rows:
        shown = "" if render is None else f"{render:10.3f}"
        print(f"{label:<18}{report_id:<34}{compute:10.3f}{shown:>10}")
    for label, total in totals.items():
        print(f"{label:<18}{'all ' + str(len(rows) // len(totals)) + ' reports':<34}{total:10.3f}")
    for label, step, seconds in portfolio:
        print(f"{label:<18}{step:<34}{seconds:10.3f}")
    worst_portfolio = max((s for _, step, s in portfolio if step.startswith("portfolio_analysis")), default=0.0)
    print(
        f"worst compute {worst:.3f} s (budget {BUDGET_S:.1f} s per report); worst project total "
        f"{max(totals.values()):.3f} s (budget {PROJECT_BUDGET_S:.0f} s); worst portfolio_analysis "
        f"{worst_portfolio:.3f} s (budget {BUDGET_S:.1f} s per project)"
    )
    ok = worst <= BUDGET_S and max(totals.values()) <= PROJECT_BUDGET_S and worst_portfolio <= BUDGET_S
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
