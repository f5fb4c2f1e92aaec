"""A tiny clean project (2 brands x 8 metrics x 6 months) that every rule test breaks in one way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import SECTIONS, SOURCE_COLUMNS

PROJECT_ID = 101
BRANDS = (11, 12)
PERIODS = pd.date_range("2023-01-01", periods=6, freq="MS")
AS_OF = pd.Timestamp("2023-07-10")


def project(**overrides) -> dict:
    row = {
        "project_id": PROJECT_ID,
        "project_name": "Test",
        "description": "",
        "category_id": 2,
        "series_group": None,
        "period_grain": "month",
        "start_date": PERIODS[0],
        "end_date": PERIODS[-1],
        "status": "completed",
    }
    row.update(overrides)
    return row


def metrics() -> pd.DataFrame:
    rows = []
    for i, section in enumerate(SECTIONS):
        for j in range(2):
            mid = 1001 + 2 * i + j
            rows.append(
                {
                    "metric_id": mid,
                    "project_id": PROJECT_ID,
                    "metric_name": f"m{mid}",
                    "display_name": f"M {mid}",
                    "unit": "index",
                    "section_name": section,
                    "platform_name": f"P{i}",
                    "metric_type": "minimize" if j else "maximize",
                    "weight": 1.0 + j,
                    "effort_cost": 1.0,
                    "is_active": True,
                }
            )
    return pd.DataFrame(rows, columns=list(SOURCE_COLUMNS["metrics"]))


def members() -> pd.DataFrame:
    return pd.DataFrame(
        {"project_id": PROJECT_ID, "brand_id": list(BRANDS), "role": ["primary", "competitor"], "weight": 1.0}
    )


def values() -> pd.DataFrame:
    m = metrics()
    grid = pd.MultiIndex.from_product(
        [BRANDS, m["metric_id"], PERIODS], names=["brand_id", "metric_id", "period"]
    ).to_frame(index=False)
    rng = np.random.default_rng(7)
    t = grid["period"].dt.month.to_numpy()
    grid["normalized_value"] = np.round(60 + 2 * t + (grid["brand_id"] - 11) * 5 + rng.normal(0, 1, len(grid)), 2)
    grid["id"] = np.arange(1001, 1001 + len(grid))
    grid["project_id"] = PROJECT_ID
    grid["raw_value"] = grid["normalized_value"] * 3
    grid["section"] = grid["metric_id"].map(m.set_index("metric_id")["section_name"])
    grid["source"] = "demo"
    grid["updated_at"] = pd.Timestamp("2023-07-02")
    return grid[list(SOURCE_COLUMNS["normalisedvalue"]) + ["updated_at"]]


def outcomes() -> pd.DataFrame:
    grid = pd.MultiIndex.from_product([BRANDS, PERIODS], names=["brand_id", "period"]).to_frame(index=False)
    n = len(grid)
    frame = pd.DataFrame(
        {
            "project_id": PROJECT_ID,
            "brand_id": grid["brand_id"],
            "period": grid["period"],
            "revenue": np.linspace(1e6, 2e6, n),
            "market_share": np.where(grid["brand_id"] == 11, 30.0, 20.0),
            "customer_acquisition_cost": 40.0,
            "bestseller_rank": 3,
            "conversion_rate": 2.5,
            "sales_units": 1000,
            "marketing_spend": 1e5,
            "customer_lifetime_value": 900.0,
            "brand_equity_index": 70.0,
            "currency": "USD",
            "updated_at": pd.Timestamp("2023-07-02"),
        }
    )
    return frame
