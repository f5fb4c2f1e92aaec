"""Compute and render time per report (SPEC §7): build_report alone, then the HTML page separately.

Projects: the demo's largest project (small demo, project 101: 5 brands x 36 months) and a synthetic
20-brand x 36-period project (demo generator + domain scoring in memory; no Postgres, no Dagster).
Each report's compute must stay within 1 s. Run: .venv/bin/python bench/bench_reports.py [--render]"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from dc_pipeline.demo.dataset import demo_dataset
from dc_pipeline.demo.generator import generate
from dc_pipeline.demo.report_inputs import demo_report_data
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import all_builders

BUDGET_S = 1.0
DQ = {"score": 0.95, "quarantined_rows": {}}


def _largest(tables) -> int:
    values = tables["normalisedvalue"]
    return int(values.groupby("project_id").size().idxmax())


def _projects():
    demo = demo_dataset("small").tables
    pid = _largest(demo)
    yield f"demo p{pid}", demo_report_data(demo, pid, dq=DQ)
    wide = generate(projects=1, brands_per_project=20, metrics_per_platform=3, periods=36, faulty_project=None).tables
    yield "synthetic 20x36", demo_report_data(wide, _largest(wide), dq=DQ)


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
    args = parser.parse_args(argv)
    params = ReportParams(analysis_depth=args.depth)
    rows, worst = [], 0.0
    for label, data in _projects():
        for report_id, builder in all_builders().items():
            build_report(builder, data, params)  # warm caches and lazy imports
            compute = _time(lambda b=builder, d=data: build_report(b, d, params), args.repeats)
            render = None
            if args.render:
                from dc_pipeline.domain.reports.render import render_html

                envelope = build_report(builder, data, params)
                render = _time(lambda e=envelope: render_html(e), 1)
            worst = max(worst, compute)
            rows.append((label, report_id, compute, render))
    print(f"{'project':<18}{'report':<34}{'compute s':>10}{'render s':>10}")
    for label, report_id, compute, render in rows:
        shown = "" if render is None else f"{render:10.3f}"
        print(f"{label:<18}{report_id:<34}{compute:10.3f}{shown:>10}")
    print(f"worst compute {worst:.3f} s (budget {BUDGET_S:.1f} s per report)")
    return 0 if worst <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
