"""Local Digi-Cadence API simulator (SPEC §3 "Simulator").

A real HTTP/1.1 server (stdlib `ThreadingHTTPServer`) on one or more 127.0.0.1 ports; every port
serves every SPEC path from the same source tables (the contracts' frame shapes). Tokens from
POST /auth/token are HMAC-signed with the given secret key. `faults` is mutated by tests at run
time to inject latency, error statuses, 429 + Retry-After, token expiry, malformed JSON, schema
violations, truncated bodies, dropped connections, down ports, missing paths and seeded value drift.

Modules: server (ApiSimulator: threads, auth, request log), routes (path -> body), data (bodies
built from the tables), faults (which fault, and what a body fault does), tokens (signing).
"""

from dc_pipeline.demo.simulator.data import HttpProblem, SimulatorData
from dc_pipeline.demo.simulator.faults import FaultKind, SimulatorFaults
from dc_pipeline.demo.simulator.routes import ANALYTICS_PATHS
from dc_pipeline.demo.simulator.server import ApiSimulator, SimRequest
from dc_pipeline.demo.simulator.tokens import TokenSigner

__all__ = [
    "ANALYTICS_PATHS",
    "ApiSimulator",
    "FaultKind",
    "HttpProblem",
    "SimRequest",
    "SimulatorData",
    "SimulatorFaults",
    "TokenSigner",
]
