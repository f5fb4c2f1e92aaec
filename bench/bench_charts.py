"""CPU seconds per chart: every chart of the 25 reports of one project drawn to SVG, as the pages do, by matplotlib's
plain SVG canvas (FigureCanvasSVG) and by the chart canvas the pages use (charts/svg_canvas.py: text measurements
kept per process; the same bytes, charts/test_svg_bytes.py).

Project: the demo's largest project (small demo) or the synthetic 20-brand x 36-period one, with the model outputs
bench_reports.py builds and caches (.dc_pipeline/bench_cache/). Warm: each chart is drawn once per canvas to warm
matplotlib (fonts, lazy imports), then timed `--repeats` times per canvas, alternating, in process CPU seconds; the
table gives the median per figure kind and over all charts. Cold: `--cold` fresh processes per canvas and heap,
alternating, each set up as the runner sets up a report stage worker (runner.preload_modules, then a fork, with
the heap frozen as runner.frozen_heap does or as forked before it) and timing the forked child's first pass over
all charts; the table gives the median pass and its ratio to the plain canvas, heap as forked (the code
before). `--profile` prints the top functions of one pass under cProfile; `--pages DIR` writes the 25 HTML pages
there. Compare canvases in the same run: the machine's load stretches every number (the load average is printed).
Run: .venv/bin/python bench/bench_charts.py [--project synthetic] [--repeats 3] [--cold 3] [--profile] [--pages DIR]"""

from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from dc_pipeline.domain.reports.charts.draw import raw_svg

CANVASES = ("plain", "cached")


def _canvas(name: str):
    """None: raw_svg's default, the chart canvas; 'plain': matplotlib's own SVG canvas."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    return FigureCanvasSVG if name == "plain" else None


def _envelopes(which: str) -> dict[str, dict]:
    from bench_reports import _projects

    from dc_pipeline.domain.reports.framework import build_report
    from dc_pipeline.domain.reports.params import ReportParams
    from dc_pipeline.domain.reports.registry import all_builders

    for label, _tables, data in _projects(True, False):
        if label.startswith("synthetic" if which == "synthetic" else "demo"):
            params = ReportParams(analysis_depth="detailed")
            return {rid: build_report(builder, data, params) for rid, builder in all_builders().items()}
    raise SystemExit(f"no project {which!r}")


def _cpu(fn) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def _warm(vizs: list[dict], repeats: int) -> dict[str, dict[str, list[float]]]:
    """{canvas: {figure kind: [median CPU s of each chart]}}, the canvases alternating per chart and repeat."""
    canvases = {name: _canvas(name) for name in CANVASES}
    for viz in vizs:
        for canvas in canvases.values():
            raw_svg(viz, canvas)  # warm: fonts, lazy imports, the chart canvas's text caches
    out: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in CANVASES}
    for viz in vizs:
        runs: dict[str, list[float]] = defaultdict(list)
        for _ in range(repeats):
            for name, canvas in canvases.items():
                runs[name].append(_cpu(lambda v=viz, c=canvas: raw_svg(v, c)))
        for name in CANVASES:
            out[name][viz["figure"]["kind"]].append(statistics.median(runs[name]))
    return out


def _cold_child(path: Path, canvas: str, heap: str) -> None:
    """A fresh process set up as the runner sets up a report stage worker: the modules imported and one titled
    figure saved (runner.preload_modules), then forked (inside runner.frozen_heap for heap 'frozen'); the forked
    child times its first pass over the charts and prints the CPU seconds."""
    from contextlib import nullcontext

    from dc_pipeline.runner import frozen_heap, preload_modules

    vizs = pickle.loads(path.read_bytes())
    preload_modules()
    with frozen_heap() if heap == "frozen" else nullcontext():
        pid = os.fork()
        if pid == 0:  # as a multiprocessing worker: it never leaves the block (which would thaw its heap)
            print(_cpu(lambda: [raw_svg(viz, _canvas(canvas)) for viz in vizs]), flush=True)
            os._exit(0)
    os.waitpid(pid, 0)


COLD = (("plain", "as forked"), ("cached", "as forked"), ("plain", "frozen"), ("cached", "frozen"))


def _cold(vizs: list[dict], processes: int) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "charts.pkl"
        path.write_bytes(pickle.dumps(vizs))
        for _ in range(processes):
            for canvas, heap in COLD:
                cmd = [sys.executable, __file__, "--cold-child", str(path), "--canvas", canvas, "--heap", heap]
                run = subprocess.run(cmd, check=True, capture_output=True, text=True)
                out[canvas, heap].append(float(run.stdout))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="demo", choices=["demo", "synthetic"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3, help="fresh processes per canvas (0: no cold pass)")
    parser.add_argument("--profile", action="store_true", help="cProfile one pass over all charts (chart canvas)")
    parser.add_argument("--pages", type=Path, help="write the HTML pages to this directory")
    parser.add_argument("--cold-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--canvas", default="cached", choices=CANVASES, help=argparse.SUPPRESS)
    parser.add_argument("--heap", default="frozen", choices=["as forked", "frozen"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cold_child:
        return _cold_child(args.cold_child, args.canvas, args.heap)
    from dc_pipeline.domain.reports.render.page import page_view

    envelopes = _envelopes(args.project)
    vizs = [c["viz"] for env in envelopes.values() for c in page_view(env)["charts"]]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {len(vizs)} charts, {args.project}")
    warm = _warm(vizs, args.repeats)
    print(f"warm, median CPU s per chart of {args.repeats} draws")
    print(f"{'figure kind':<14}{'charts':>7}{'plain':>9}{'cached':>9}{'ratio':>7}{'plain tot':>11}{'cached tot':>11}")
    for kind in sorted(warm["plain"]) + ["all"]:
        plain, cached = (
            [s for seconds in warm[c].values() for s in seconds] if kind == "all" else warm[c][kind] for c in CANVASES
        )
        p, c = statistics.median(plain), statistics.median(cached)
        print(f"{kind:<14}{len(plain):7d}{p:9.4f}{c:9.4f}{c / p:7.2f}{sum(plain):11.2f}{sum(cached):11.2f}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.cold:
        cold = _cold(vizs, args.cold)
        base = statistics.median(cold[COLD[0]])
        print(f"cold, CPU s of a fresh worker's first pass over the {len(vizs)} charts (median of {args.cold})")
        print(f"{'canvas':<8}{'heap':<11}{'median':>8}{'ratio':>7}   runs")
        for canvas, heap in COLD:
            runs = cold[canvas, heap]
            median = statistics.median(runs)
            print(f"{canvas:<8}{heap:<11}{median:8.2f}{median / base:7.2f}   {' '.join(f'{x:.2f}' for x in runs)}")
        print(f"load average {os.getloadavg()[0]:.1f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [raw_svg(viz) for viz in vizs])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
    if args.pages:
        from dc_pipeline.domain.reports.render import render_html

        args.pages.mkdir(parents=True, exist_ok=True)
        for rid, env in envelopes.items():
            (args.pages / f"{rid}.html").write_text(render_html(env), encoding="utf-8")
        print(f"{len(envelopes)} pages in {args.pages}")


if __name__ == "__main__":
    main()
