"""`dc-pipeline simulator`: fault flags, the prod secret rule, and the loader serving the demo
tables or the database's with --from-db."""

from __future__ import annotations

import threading

import requests

from dc_pipeline import cli
from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline.demo.simulator_cli import main as simulator_main
from dc_pipeline_tests.api_helpers import tiny_tables


def serve_once(argv, env) -> dict:
    """Start the simulator command, GET /weight_sum for project 101 and /normalized for project 1, stop."""
    stop, seen = threading.Event(), {}

    def on_started(sim):
        base = sim.base_urls[0]
        seen["weights"] = requests.get(f"{base}/weight_sum", params={"project_id": 101}, timeout=10).json()
        seen["values"] = requests.get(
            f"{base}/normalized/normalized_value", params={"project_ids": 1}, timeout=10
        ).json()
        stop.set()

    assert simulator_main(argv, cli._simulator_tables, stop_event=stop, on_started=on_started, env=env) == 0
    return seen


def test_simulator_serves_demo_tables_and_the_same_rows_from_db(fresh_db, monkeypatch):
    demo = serve_once(["--ports", "0", "--seed", "42"], env={})
    cli.load_demo(fresh_db, "small", 42)
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    from_db = serve_once(["--ports", "0", "--from-db"], env={})
    assert demo["weights"] == from_db["weights"] and len(demo["weights"]["weights"]) > 0
    key = lambda r: (r["brand_id"], r["metric_id"], r["period"])  # noqa: E731
    assert sorted(demo["values"], key=key) == sorted(from_db["values"], key=key)
    assert len(demo["values"]) == 12


def test_cli_serves_until_stopped_with_fault_flags() -> None:
    stop = threading.Event()
    seen: dict[str, object] = {}

    def on_started(sim: ApiSimulator) -> None:
        seen["urls"] = sim.base_urls
        seen["health"] = [requests.get(u + "/health", timeout=3).status_code for u in sim.base_urls]
        token = requests.post(sim.base_urls[0] + "/auth/token", headers={"X-API-Key": "cli-key"}, timeout=3).json()
        seen["ttl"] = token["expires_in"]
        seen["fail_rate"] = sim.faults.fail_rate
        stop.set()

    loaded: list[object] = []

    def load(args: object) -> dict:
        loaded.append(args)
        return tiny_tables()

    code = simulator_main(
        ["--ports", "0,0", "--seed", "3", "--token-ttl", "120", "--fail-rate", "0.25"],
        load,
        stop_event=stop,
        on_started=on_started,
        env={"API_KEY": "cli-key"},
    )
    assert code == 0 and len(seen["urls"]) == 2 and seen["health"] == [200, 200]  # type: ignore[arg-type]
    assert seen["ttl"] == 120 and seen["fail_rate"] == 0.25
    assert loaded[0].seed == 3 and loaded[0].from_db is False
    assert simulator_main(["--ports", "0"], load, stop_event=stop, env={"DC_ENV": "prod"}) == 2
