"""`dc-pipeline simulator --ports 7000,8001,8002 --seed 42 [fault flags]` (SPEC §3).

The data source is a callback so the top-level CLI decides where tables come from (the demo
generator by default, the source database with `--from-db`).
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from dc_pipeline.demo.simulator import ApiSimulator

TablesLoader = Callable[[argparse.Namespace], Mapping[str, pd.DataFrame]]
DEV_SECRET_KEY = "dc-pipeline-dev-secret-key"  # the `dev` key of SPEC §10, for DC_ENV=dev only


def _int_list(text: str) -> list[int]:
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated port numbers, got {text!r}") from None


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a share in [0, 1], got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dc-pipeline simulator", description="Serve the Digi-Cadence API endpoints locally from demo data."
    )
    parser.add_argument(
        "--ports",
        type=_int_list,
        default=[7000, 8001, 8002],
        help="comma-separated ports on 127.0.0.1 (0 = any free port)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data, fail-rate and drift")
    parser.add_argument("--from-db", action="store_true", help="serve the source tables instead of demo data")
    parser.add_argument("--fail-rate", type=_share, default=0.0, help="share of data requests answered 500")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every answer")
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="lifetime of issued tokens (s)")
    parser.add_argument("--down-ports", type=_int_list, default=[], help="ports that drop every connection")
    parser.add_argument(
        "--drift", type=_share, default=0.0, help="share of normalized values and outcome cells perturbed (seeded)"
    )
    return parser


def main(
    argv: Sequence[str] | None,
    load_tables: TablesLoader,
    *,
    stop_event: threading.Event | None = None,
    on_started: Callable[[ApiSimulator], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Serve until Ctrl-C (or until `stop_event` is set). Auth uses API_KEY and SECRET_KEY from the
    environment; with DC_ENV=prod a missing SECRET_KEY is an error."""
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    secret = env.get("SECRET_KEY") or ""
    if not secret:
        if (env.get("DC_ENV") or "dev") == "prod":
            print("SECRET_KEY is required when DC_ENV=prod")
            return 2
        secret = DEV_SECRET_KEY
    tables = load_tables(args)
    simulator = ApiSimulator(
        tables, ports=args.ports, secret_key=secret, api_key=env.get("API_KEY") or None, seed=args.seed, host=args.host
    )
    simulator.faults.update(
        fail_rate=args.fail_rate, latency_ms=args.latency_ms, token_ttl=args.token_ttl, drift=args.drift
    )
    stop = stop_event or threading.Event()
    with simulator:
        # --down-ports may name requested ports; with port 0 the bound port is only known now.
        simulator.faults.down_ports = {p for p in args.down_ports if p in simulator.ports}
        print(
            "Digi-Cadence API simulator on "
            + ", ".join(simulator.base_urls)
            + (" (auth: X-API-Key / bearer)" if env.get("API_KEY") else " (auth: open, API_KEY not set)")
        )
        if on_started is not None:
            on_started(simulator)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
    return 0
