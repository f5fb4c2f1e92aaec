"""Helpers shared by the API client tests (adapters/api_client/) and the simulator tests
(demo/simulator/): a tiny inline source dataset (2 projects, 2 brands, 8 metrics, 3 periods,
independent of the demo generator), the keys, a hand-moved clock, a client factory and a raw GET.
The `sim` fixture built from them is in adapters/conftest.py."""

from __future__ import annotations

import threading

import pandas as pd
import requests

from dc_pipeline.adapters.api_client import ApiClientSettings, DigiCadenceClient, ProcessRequestGate
from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS

SECRET_KEY = "test-secret-key-for-signing"
API_KEY = "test-api-key-0123456789"
PERIODS = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])
PLATFORMS = {
    "Marketplace": "Amazon",
    "Digital Spends": "Meta Ads",
    "Organic Performance": "YouTube",
    "Socialwatch": "Instagram",
}
METRIC_NAMES = {
    "Marketplace": "ratings",
    "Digital Spends": "cpc",
    "Organic Performance": "organic_traffic",
    "Socialwatch": "engagement_rate",
}


def tiny_tables() -> dict[str, pd.DataFrame]:
    stamp = pd.Timestamp("2024-04-02T08:00:00Z")
    categories = pd.DataFrame(
        {
            "category_id": [1],
            "category_name": ["Consumer Electronics"],
            "parent_category_id": [None],
            "description": ["devices"],
        }
    )
    projects = pd.DataFrame(
        {
            "project_id": [1, 2],
            "project_name": ["TechCorp Q1", "TechCorp snapshot"],
            "description": ["monthly", "one period"],
            "category_id": [1, 1],
            "series_group": [None, None],
            "period_grain": ["month", "month"],
            "start_date": [PERIODS[0], PERIODS[2]],
            "end_date": [PERIODS[2], PERIODS[2]],
            "status": ["active", "active"],
        }
    )
    brands = pd.DataFrame(
        {
            "brand_id": [1, 2],
            "brand_name": ["TechPhone", "TechLaptop"],
            "category_id": [1, 1],
            "brand_type": ["primary", "competitor"],
            "is_active": [True, True],
        }
    )
    project_brands = pd.DataFrame(
        {
            "project_id": [1, 1, 2],
            "brand_id": [1, 2, 1],
            "role": ["primary", "competitor", "primary"],
            "weight": [1.0, 1.0, 1.0],
        }
    )
    metric_rows = []
    for project_id, first_id in ((1, 1), (2, 5)):
        for i, section in enumerate(SECTIONS):
            name = METRIC_NAMES[section]
            metric_rows.append(
                {
                    "metric_id": first_id + i,
                    "project_id": project_id,
                    "metric_name": name,
                    "display_name": name,
                    "unit": "pts",
                    "section_name": section,
                    "platform_name": PLATFORMS[section],
                    "metric_type": "minimize" if name == "cpc" else "maximize",
                    "weight": 1.0 + 0.5 * i,
                    "effort_cost": 1.0,
                    "is_active": True,
                }
            )
    metrics = pd.DataFrame(metric_rows)
    nv_rows = []
    for m in metric_rows:
        periods = PERIODS if m["project_id"] == 1 else PERIODS[2:]
        members = [1, 2] if m["project_id"] == 1 else [1]
        for brand_id in members:
            for t, period in enumerate(periods):
                nv_rows.append(
                    {
                        "id": len(nv_rows) + 1,
                        "project_id": m["project_id"],
                        "brand_id": brand_id,
                        "metric_id": m["metric_id"],
                        "period": period,
                        "normalized_value": 60.0 + 5 * brand_id + m["metric_id"] + 2 * t,
                        "raw_value": None,
                        "section": m["section_name"],
                        "source": "fixture",
                    }
                )
    normalisedvalue = pd.DataFrame(nv_rows)
    normalisedvalue["updated_at"] = stamp
    outcome_rows = []
    for brand_id in (1, 2):
        for t, period in enumerate(PERIODS):
            row = {"project_id": 1, "brand_id": brand_id, "period": period, "currency": "USD"}
            row.update({c: 100.0 + 10 * brand_id + t for c in OUTCOME_COLUMNS})
            outcome_rows.append(row)
    business_outcomes = pd.DataFrame(outcome_rows)
    return {
        "categories": categories,
        "projects": projects,
        "brands": brands,
        "project_brands": project_brands,
        "metrics": metrics,
        "normalisedvalue": normalisedvalue,
        "business_outcomes": business_outcomes,
    }


class FakeClock:
    """A monotonic clock the test moves by hand (breaker cool-downs, token lifetimes)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def make_client(
    sim: ApiSimulator,
    *,
    sleeps: list[float] | None = None,
    clock: FakeClock | None = None,
    gate: ProcessRequestGate | None = None,
    **overrides: object,
) -> DigiCadenceClient:
    """A client on the simulator with small delays; `sleeps` records every backoff instead of sleeping."""
    values: dict[str, object] = dict(
        base_urls=tuple(sim.base_urls),
        api_key=API_KEY,
        timeout=2.0,
        retry_attempts=3,
        retry_delay=0.01,
        breaker_cooldown_s=0.2,
        seed=3,
    )
    values.update(overrides)
    kwargs: dict[str, object] = {}
    if sleeps is not None:
        kwargs["sleep"] = sleeps.append
    if clock is not None:
        kwargs["clock"] = clock
    kwargs["gate"] = gate or ProcessRequestGate()
    return DigiCadenceClient(ApiClientSettings(**values), **kwargs)  # type: ignore[arg-type]


def get(sim: ApiSimulator, path: str, port_index: int = 0, **kwargs: object) -> requests.Response:
    """A raw GET on one replica of the simulator, with the API key unless `headers` is given."""
    kwargs.setdefault("headers", {"X-API-Key": API_KEY})
    kwargs.setdefault("timeout", 3)
    return requests.get(sim.base_urls[port_index] + path, **kwargs)  # type: ignore[arg-type]
