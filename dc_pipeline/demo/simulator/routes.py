"""The simulator's data paths (SPEC §3 service table): path and query -> body, or HttpProblem."""

from __future__ import annotations

from typing import Any

from dc_pipeline.demo.simulator.data import HttpProblem, SimulatorData
from dc_pipeline.demo.simulator.faults import SimulatorFaults

ANALYTICS_PATHS = ("/analytics/metrics", "/get_analytics", "/analytics")


def _int_param(query: dict[str, list[str]], name: str) -> int:
    raw = (query.get(name) or [""])[0]
    try:
        return int(raw.split(",")[0])
    except ValueError:
        raise HttpProblem(400, f"query parameter {name} must be an integer, got {raw!r}") from None


def _project_ids(query: dict[str, list[str]]) -> list[int]:
    raw = (query.get("project_ids") or [""])[0]
    try:
        ids = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise HttpProblem(400, f"project_ids must be comma-separated integers, got {raw!r}") from None
    if not ids:
        raise HttpProblem(400, "project_ids is required")
    return ids


def route(data: SimulatorData, faults: SimulatorFaults, path: str, query: dict[str, list[str]]) -> Any:
    """The body of a GET on a data path; drift is read from `faults` per call."""
    if path == "/normalized/normalized_value":
        return [r for pid in _project_ids(query) for r in data.normalized(pid, faults.drift, faults.drift_seed)]
    if path.rstrip("/") == "/api/v1/project/get-project":
        return data.project_meta(_int_param(query, "project_id"))
    if path == "/weight_sum":
        return data.weight_sum(_int_param(query, "project_id"))
    if path == "/get_multi_data":
        return data.insights(_int_param(query, "project_id"))
    if path in ANALYTICS_PATHS:
        return data.analytics(_int_param(query, "project_id"))
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "brands" and parts[2] == "project_id":
        try:
            brand_id, project_id = int(parts[1]), int(parts[3])
        except ValueError:
            raise HttpProblem(400, f"brand and project ids must be integers in {path}") from None
        return data.brand_data(brand_id, project_id, faults.drift, faults.drift_seed)
    raise HttpProblem(404, f"no such path: {path}")
