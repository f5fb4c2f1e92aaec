"""Code-location load cost: seconds to import dagster, then dc_pipeline.definitions on top of it, each in a fresh
interpreter (what every run worker and step process pays). Prints medians over --repeat runs.

    python bench/bench_import.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PROBE = """
import time
t0 = time.perf_counter()
import dagster
t1 = time.perf_counter()
import dc_pipeline.definitions
t2 = time.perf_counter()
heavy = [m for m in ("sklearn", "statsmodels", "optuna", "scipy.stats", "matplotlib") if m in __import__("sys").modules]
print(t1 - t0, t2 - t1, ",".join(heavy) or "none")
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    dagster_s, ours_s, heavy = [], [], ""
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-W", "ignore", "-c", PROBE], capture_output=True, text=True, check=True)
        a, b, heavy = out.stdout.split()
        dagster_s.append(float(a))
        ours_s.append(float(b))
    print(f"{'what':<40} {'median s':>9} {'min s':>7}")
    print(f"{'import dagster':<40} {statistics.median(dagster_s):>9.3f} {min(dagster_s):>7.3f}")
    print(f"{'import dc_pipeline.definitions (after)':<40} {statistics.median(ours_s):>9.3f} {min(ours_s):>7.3f}")
    print(f"heavy modules loaded by the code location: {heavy}")


if __name__ == "__main__":
    main()
