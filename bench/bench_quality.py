"""Benchmark: data-quality scoring of a whole portfolio, beside DC scoring and a numpy floor.

    python bench/bench_quality.py [--size large|medium|small] [--repeats N]

In memory, no database: generates the demo portfolio (large: >= 5 million normalisedvalue rows),
then times
  - `assess_run` (every SPEC §5 rule, quarantine, dimension and DQ scores) over all projects at once,
    and cutting its tables into one `QualityAssessment` per project (what the asset hands on),
  - `compute_dc_scores` on the validated rows that come out of it,
  - the floor: one vectorised numpy pass over the same value rows doing the blocking checks only
    (finite, in [0, 100], metric id known, duplicate (project, brand, metric, period) keys via a sort),
    and a bincount weighted mean per brand-period as the scoring floor.
It prints the rule totals (failed / units per rule) and a digest of every per-project output (validated
rows, quarantine with reasons, rule results, dimension and DQ scores, blocking verdicts ...): run it on
two commits to see that a change left the results identical row for row.
Each timing is the median of --repeats runs (default 3), in wall and
process CPU seconds (user + system, the system part shown apart); rows/s and the ratio to the floor
use CPU seconds, `x floor user` user seconds only. Peak memory of the DQ step is
the process's resident-set high-water mark during the step (Linux: reset through /proc/self/clear_refs,
else sampled) minus the resident set before it, beside the size of the landed value rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import sys
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.demo.dataset import demo_dataset  # noqa: E402
from dc_pipeline.domain.quality import QualityAssessment, assess_run  # noqa: E402
from dc_pipeline.domain.scoring import compute_dc_scores  # noqa: E402
from dc_pipeline.domain.settings import DqConfig, ScoringConfig  # noqa: E402

SCORING_COLUMNS = ["project_id", "brand_id", "metric_id", "period", "normalized_value"]


def assess_all(tables: dict[str, pd.DataFrame], config: DqConfig, as_of: pd.Timestamp):
    """Every project of the portfolio in one run, as the validation asset calls it."""
    return assess_run(
        tables["projects"],
        tables["metrics"],
        tables["project_brands"],
        tables["normalisedvalue"],
        tables["business_outcomes"],
        config,
        as_of,
    )


def _read_high_water() -> int | None:
    try:
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return None


def peak_memory(fn):
    """(result, peak resident bytes during fn above the resident set before it, how it was measured)."""
    process = psutil.Process()
    before = process.memory_info().rss
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM to the current resident set
        result = fn()
        peak = _read_high_water()
        if peak is not None:
            return result, peak - before, "VmHWM"
    except OSError:
        pass
    samples, done = [before], threading.Event()

    def sample():
        while not done.wait(0.005):
            samples.append(process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        result = fn()
    finally:
        done.set()
        thread.join()
    return result, max(samples) - before, "sampled every 5 ms"


def floor_checks(values: pd.DataFrame, metric_ids: np.ndarray) -> int:
    """The blocking checks as one numpy pass; returns the number of failing rows."""
    value = values["normalized_value"].to_numpy(dtype="float64")
    bad = ~(np.isfinite(value) & (value >= 0) & (value <= 100))
    bad |= ~np.isin(values["metric_id"].to_numpy(), metric_ids)
    month = values["period"].to_numpy().astype("datetime64[M]").astype("int64")
    parts = [values[c].to_numpy(dtype="int64") for c in ("project_id", "brand_id", "metric_id")] + [month - month.min()]
    key = np.ravel_multi_index(parts, [int(p.max()) + 1 for p in parts])
    order = np.argsort(key, kind="stable")
    same = key[order][1:] == key[order][:-1]
    dup = np.zeros(key.size, bool)
    dup[order[1:][same]] = True
    dup[order[:-1][same]] = True
    return int((bad | dup).sum())


def floor_scoring(values: pd.DataFrame, weights: pd.Series) -> int:
    """Weighted mean per (project, brand, period): the least any scorer must do."""
    w = values["metric_id"].map(weights).to_numpy(dtype="float64")
    month = values["period"].to_numpy().astype("datetime64[M]").astype("int64")
    parts = [
        values["project_id"].to_numpy(dtype="int64"),
        values["brand_id"].to_numpy(dtype="int64"),
        month - month.min(),
    ]
    group = np.unique(np.ravel_multi_index(parts, [int(p.max()) + 1 for p in parts]), return_inverse=True)[1]
    dc = np.bincount(group, weights=values["normalized_value"].to_numpy() * w) / np.bincount(group, weights=w)
    return int(dc.size)


# Every frame a project's QualityAssessment carries (all its fields but the blocking verdicts).
ASSESSMENT_FRAMES = tuple(f.name for f in fields(QualityAssessment) if f.name != "blocking")


def output_digest(results) -> str:
    """sha256 over every project's outputs: each frame's columns, dtypes and rows (hashed by pandas;
    dict cells of the quarantine as sorted JSON) and the blocking verdicts as JSON."""
    digest = hashlib.sha256()
    for project_id, assessment in results:
        digest.update(repr(project_id).encode())
        for name in ASSESSMENT_FRAMES:
            frame = getattr(assessment, name)
            digest.update(repr((name, list(frame.columns), [str(d) for d in frame.dtypes], len(frame))).encode())
            if name == "quarantine" and len(frame):
                frame = frame.map(lambda x: json.dumps(x, sort_keys=True, default=str) if isinstance(x, dict) else x)
            digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        digest.update(json.dumps(assessment.blocking, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


@dataclass
class Timing:
    """Medians over the repeats: wall seconds, CPU seconds of this process (user + system) and the
    system part alone (mostly the kernel zeroing freshly mapped memory for large new arrays)."""

    wall: float
    cpu: float
    sys: float


def timed(fn, repeats: int):
    """(Timing, result). CPU time is the fairer number on a shared machine: wall time includes
    waiting for the cores."""
    wall, cpu, sys_, result = [], [], [], None
    for _ in range(repeats):
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        result = fn()
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_SELF)
        sys_.append(after.ru_stime - before.ru_stime)
        cpu.append(after.ru_utime - before.ru_utime + sys_[-1])
    return Timing(statistics.median(wall), statistics.median(cpu), statistics.median(sys_)), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    repeats = args.repeats

    started = time.perf_counter()
    data = demo_dataset(args.size)
    tables = data.tables
    generate_s = time.perf_counter() - started
    values = tables["normalisedvalue"]
    n_rows = len(values)
    n_projects = len(tables["projects"])
    # A fixed as_of after every project's end, so timeliness is judged the same way on every repeat.
    as_of = pd.Timestamp(tables["projects"]["end_date"].max()) + pd.DateOffset(months=1)

    dq, run = timed(lambda: assess_all(tables, DqConfig(), as_of), repeats)
    cut, by_project = timed(run.by_project, repeats)
    (_, dq_peak, peak_how) = peak_memory(lambda: assess_all(tables, DqConfig(), as_of).by_project())
    results = dict(by_project)
    validated = run.validated_values[SCORING_COLUMNS]
    quarantined = int((run.quarantine["source_table"] == "normalisedvalue").sum())
    assert len(validated) + quarantined == n_rows, "every landed row is validated or quarantined"
    scoring, scores = timed(lambda: compute_dc_scores(validated, tables["metrics"], ScoringConfig()), repeats)

    metric_ids = tables["metrics"]["metric_id"].to_numpy(dtype="int64")
    floor_dq, floor_bad = timed(lambda: floor_checks(values, metric_ids), repeats)
    weights = tables["metrics"].set_index("metric_id")["weight"].astype("float64")
    floor_sc, floor_groups = timed(lambda: floor_scoring(validated, weights), repeats)

    bands = pd.Series(
        [a.dq_scores.loc[a.dq_scores["scope"] == "project", "band"].iloc[0] for a in results.values()]
    ).value_counts(dropna=False)
    print(
        f"size {args.size}: {n_projects} projects, {n_rows:,} normalisedvalue rows "
        f"(generated in {generate_s:.1f} s); median of {repeats} repeat(s)"
    )
    print(
        f"{'stage':<44} {'rows':>11} {'wall s':>8} {'cpu s':>8} {'sys s':>7} {'rows/cpu s':>12} "
        f"{'x floor':>8} {'x floor user':>13}"
    )
    both = Timing(dq.wall + cut.wall, dq.cpu + cut.cpu, dq.sys + cut.sys)
    table = [
        ("DQ: assess_run, all projects at once", n_rows, dq, floor_dq),
        ("DQ: + one QualityAssessment per project", n_rows, both, floor_dq),
        ("floor: numpy blocking checks (V1, V2, U1)", n_rows, floor_dq, floor_dq),
        ("DC: compute_dc_scores on validated rows", len(validated), scoring, floor_sc),
        ("floor: numpy weighted mean per brand-period", len(validated), floor_sc, floor_sc),
    ]
    for stage, rows, t, floor in table:
        user_ratio = (t.cpu - t.sys) / max(floor.cpu - floor.sys, 1e-9)
        print(
            f"{stage:<44} {rows:>11,} {t.wall:>8.2f} {t.cpu:>8.2f} {t.sys:>7.2f} {rows / max(t.cpu, 1e-9):>12,.0f} "
            f"{t.cpu / max(floor.cpu, 1e-9):>8.1f} {user_ratio:>13.1f}"
        )
    landed_bytes = int(values.memory_usage(deep=True).sum())
    print(
        f"DQ peak memory: {dq_peak / 2**20:,.0f} MiB above the {landed_bytes / 2**20:,.0f} MiB of landed value rows "
        f"({dq_peak / landed_bytes:.2f}x; {peak_how}); process peak {_process_peak() / 2**20:,.0f} MiB"
    )
    print(
        f"quarantined value rows: {quarantined:,} (floor flags {floor_bad:,} blocking-rule rows); "
        f"brand-periods scored: {len(scores.brands):,} (floor groups {floor_groups:,}); "
        f"project bands: {', '.join(f'{b} {n}' for b, n in bands.items())}"
    )
    totals = run.rule_results.groupby("rule_id")[["failed", "units"]].sum()
    print("rule failed/units: " + ", ".join(f"{r} {f}/{u}" for r, (f, u) in totals.iterrows()))
    print(f"digest of every per-project output: {output_digest(by_project)}")
    return 0


def _process_peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


if __name__ == "__main__":
    sys.exit(main())
