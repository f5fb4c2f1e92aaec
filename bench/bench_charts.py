"""CPU seconds per chart: every chart of the 25 reports of one project drawn to SVG (figure_svg), as the pages do.

Project: the demo's largest project (small demo) or the synthetic 20-brand x 36-period one, with the model outputs
bench_reports.py builds and caches (.dc_pipeline/bench_cache/). Each chart is drawn once to warm matplotlib (fonts,
lazy imports), then timed `--repeats` times in process CPU seconds; the table gives the median per figure kind and
over all charts. `--profile` prints the top functions of one pass over all charts under cProfile; `--pages DIR`
writes the 25 HTML pages there (to look at them, e.g. with headless chromium). Compare commits in the same session:
the machine's load stretches every number (the load average is printed).
Run: .venv/bin/python bench/bench_charts.py [--project synthetic] [--profile] [--pages /tmp/pages]"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bench_reports import _projects

from dc_pipeline.domain.reports.charts.draw import figure_svg
from dc_pipeline.domain.reports.framework import build_report
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.registry import all_builders
from dc_pipeline.domain.reports.render import render_html
from dc_pipeline.domain.reports.render.page import page_view


def _envelopes(which: str) -> dict[str, dict]:
    for label, _tables, data in _projects(True, False):
        if label.startswith("synthetic" if which == "synthetic" else "demo"):
            params = ReportParams(analysis_depth="detailed")
            return {rid: build_report(builder, data, params) for rid, builder in all_builders().items()}
    raise SystemExit(f"no project {which!r}")


def _cpu(fn) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="demo", choices=["demo", "synthetic"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile one pass over all charts")
    parser.add_argument("--pages", type=Path, help="write the HTML pages to this directory")
    args = parser.parse_args(argv)
    envelopes = _envelopes(args.project)
    charts = [(rid, c["viz"]) for rid, env in envelopes.items() for c in page_view(env)["charts"]]
    for _, viz in charts:
        figure_svg(viz)  # warm: fonts, lazy imports
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {len(charts)} charts, {args.project}")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for _, viz in charts:
        by_kind[viz["figure"]["kind"]].append(
            statistics.median(_cpu(lambda v=viz: figure_svg(v)) for _ in range(args.repeats))
        )
    print(f"{'figure kind':<14}{'charts':>7}{'median cpu s':>14}{'total cpu s':>13}")
    for kind, seconds in sorted(by_kind.items()):
        print(f"{kind:<14}{len(seconds):7d}{statistics.median(seconds):14.3f}{sum(seconds):13.2f}")
    every = [s for seconds in by_kind.values() for s in seconds]
    print(f"{'all':<14}{len(every):7d}{statistics.median(every):14.3f}{sum(every):13.2f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [figure_svg(viz) for _, viz in charts])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    if args.pages:
        args.pages.mkdir(parents=True, exist_ok=True)
        for rid, env in envelopes.items():
            (args.pages / f"{rid}.html").write_text(render_html(env), encoding="utf-8")
        print(f"{len(envelopes)} pages in {args.pages}")


if __name__ == "__main__":
    main()
