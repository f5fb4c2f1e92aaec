"""Benchmark: pulling every demo project from the Digi-Cadence API, concurrent vs one at a time.

    python bench/bench_api_pull.py [--size small] [--latency-ms 50] [--repeats 3] [--workers N]

Starts the API simulator in process on two ephemeral 127.0.0.1 ports serving the demo dataset,
with a fixed added latency per answer. A "pull" is every SPEC §3 GET of every project: normalized
values, project metadata, weight_sum, insights, analytics and brand_data for each member brand.
No response cache, so every call goes over HTTP. Timed two ways with one client each:
  - sequential: one request at a time;
  - concurrent: a thread pool of `api_config.max_concurrent_requests` workers (the client's own
    process-wide cap also holds it there).
Each timing is the median of --repeats runs; the last column is sequential / concurrent.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.adapters.api_client import ApiClientSettings, DigiCadenceClient, ProcessRequestGate  # noqa: E402
from dc_pipeline.demo.dataset import demo_dataset  # noqa: E402
from dc_pipeline.demo.simulator import ApiSimulator  # noqa: E402
from dc_pipeline.domain.settings import SystemConfig  # noqa: E402

API_KEY = "bench-api-key"


def pull_tasks(tables) -> list[tuple[str, tuple]]:
    """(client method, args) for every request of a full pull of every project."""
    tasks: list[tuple[str, tuple]] = []
    members = tables["project_brands"]
    for project_id in sorted(int(p) for p in tables["projects"]["project_id"]):
        tasks += [
            (name, (project_id,))
            for name in ("normalized_values_checked", "project_meta", "weight_sum", "insights", "analytics")
        ]
        for brand_id in sorted(int(b) for b in members.loc[members["project_id"] == project_id, "brand_id"]):
            tasks.append(("brand_data", (brand_id, project_id)))
    return tasks


def run_pull(settings: ApiClientSettings, tasks, workers: int) -> tuple[float, int]:
    """Wall seconds for the whole pull and the number of HTTP requests it made."""
    with DigiCadenceClient(settings, gate=ProcessRequestGate()) as client:
        started = time.perf_counter()
        if workers <= 1:
            for name, args in tasks:
                getattr(client, name)(*args)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda task: getattr(client, task[0])(*task[1]), tasks))
        elapsed = time.perf_counter() - started
        return elapsed, client.stats()["requests"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "medium"])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: api_config.max_concurrent_requests")
    args = parser.parse_args()

    config = SystemConfig()
    tables = demo_dataset(size=args.size, seed=42).tables
    tasks = pull_tasks(tables)
    workers = args.workers or config.api_config.max_concurrent_requests
    with ApiSimulator(tables, ports=(0, 0), secret_key="bench-secret", api_key=API_KEY) as sim:
        sim.faults.latency_ms = args.latency_ms
        settings = ApiClientSettings.from_config(
            config, env={"API_BASE_URLS": ",".join(sim.base_urls), "API_KEY": API_KEY}
        )
        run_pull(settings, tasks[:2], 1)  # warm-up: the simulator joins names per project once
        rows = []
        for label, n in (("sequential", 1), (f"concurrent ({workers} threads)", workers)):
            times, requests = [], 0
            for _ in range(args.repeats):
                elapsed, requests = run_pull(settings, tasks, n)
                times.append(elapsed)
            rows.append((label, statistics.median(times), requests, min(times), max(times)))
        peak = sim.peak_in_flight

    n_projects = tables["projects"].shape[0]
    print(
        f"API pull of {n_projects} demo projects ({args.size}), {len(tasks)} GETs, "
        f"simulator latency {args.latency_ms:g} ms, median of {args.repeats}"
    )
    print(f"{'mode':<28}{'median s':>10}{'min s':>9}{'max s':>9}{'requests':>10}{'req/s':>9}")
    for label, median, requests, low, high in rows:
        print(f"{label:<28}{median:>10.3f}{low:>9.3f}{high:>9.3f}{requests:>10}{requests / median:>9.1f}")
    print(
        f"speed-up sequential / concurrent: {rows[0][1] / rows[1][1]:.2f}x "
        f"(peak requests in flight at the simulator: {peak})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
