"""The simulator's bodies (SPEC §3 response shapes), built from the source tables.

Names are joined in per project once (the tables are static); value overrides and seeded drift
are applied per call, so tests can change what is served without restarting the server.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS


class HttpProblem(Exception):
    """A request the data cannot answer: becomes an HTTP error status with `message` as its body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _iso_date(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.strftime("%Y-%m-%d")


def _iso_ts(series: pd.Series) -> pd.Series:
    ts = pd.to_datetime(series, utc=True)
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts: NaN -> None, numpy scalars -> Python."""
    out = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()} for row in out.to_dict("records")
    ]


class SimulatorData:
    """Builds the SPEC §3 bodies from the source tables; overrides and drift applied per call."""

    def __init__(self, tables: Mapping[str, pd.DataFrame]) -> None:
        missing = [t for t in ("projects", "brands", "project_brands", "metrics", "normalisedvalue") if t not in tables]
        if missing:
            raise ValueError(f"simulator tables missing: {', '.join(missing)}")
        self.tables = dict(tables)
        self._overrides: dict[tuple[int, int, int, str], tuple[float, str]] = {}
        self._joined: dict[int, pd.DataFrame] = {}
        self._lock = threading.Lock()

    def set_override(self, project_id: int, brand_id: int, metric_id: int, period: str, value: float) -> None:
        stamp = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock:
            self._overrides[(project_id, brand_id, metric_id, period)] = (float(value), stamp)

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()

    def _project(self, project_id: int) -> pd.Series:
        projects = self.tables["projects"]
        rows = projects[projects["project_id"] == project_id]
        if rows.empty:
            raise HttpProblem(404, f"project {project_id} not found")
        return rows.iloc[0]

    def _metrics(self, project_id: int) -> pd.DataFrame:
        metrics = self.tables["metrics"]
        return metrics[metrics["project_id"] == project_id].sort_values("metric_id")

    def normalized(self, project_id: int, drift: float, drift_seed: int) -> list[dict[str, Any]]:
        self._project(project_id)
        with self._lock:
            base = self._joined.get(project_id)
        if base is None:
            base = self._join_names(project_id)
            with self._lock:
                self._joined[project_id] = base
        out = base.copy()
        if drift > 0 and len(out):
            rng = np.random.default_rng([drift_seed, project_id])
            hit = rng.random(len(out)) < drift
            shift = rng.uniform(5, 15, len(out)) * rng.choice([-1.0, 1.0], len(out))
            out.loc[hit, "normalized"] = np.clip(out.loc[hit, "normalized"] + shift[hit], 0, 100)
        with self._lock:
            overrides = {k: v for k, v in self._overrides.items() if k[0] == project_id}
        for (_, b, m, period), (value, stamp) in overrides.items():
            mask = (out["brand_id"] == b) & (out["metric_id"] == m) & (out["period"] == period)
            out.loc[mask, "normalized"] = value
            if "updated_at" in out:
                out.loc[mask, "updated_at"] = stamp
        return _records(out)

    def _join_names(self, project_id: int) -> pd.DataFrame:
        """The project's rows with names joined in (tables are static, so this is cached)."""
        nv = self.tables["normalisedvalue"]
        nv = nv[nv["project_id"] == project_id]
        metrics = self.tables["metrics"][["metric_id", "metric_name", "section_name", "platform_name"]]
        brands = self.tables["brands"][["brand_id", "brand_name"]]
        # The service joins names in; rows whose metric or brand is unknown cannot be named.
        rows = nv.merge(metrics, on="metric_id", how="inner").merge(brands, on="brand_id", how="inner")
        rows = rows.sort_values(["brand_id", "metric_id", "period", "id"], kind="stable").reset_index(drop=True)
        out = pd.DataFrame(
            {
                "metricname": rows["metric_name"],
                "sectionName": rows["section_name"],
                "platformname": rows["platform_name"],
                "brandName": rows["brand_name"],
                "normalized": rows["normalized_value"].astype(float),
                "project_id": rows["project_id"],
                "brand_id": rows["brand_id"],
                "metric_id": rows["metric_id"],
                "period": _iso_date(rows["period"]),
            }
        )
        if "updated_at" in rows:
            out["updated_at"] = _iso_ts(rows["updated_at"])
        return out

    def project_meta(self, project_id: int) -> dict[str, Any]:
        project = self._project(project_id)
        metrics = self._metrics(project_id)
        body: dict[str, Any] = {
            "project_id": int(project["project_id"]),
            "project_name": project["project_name"],
            "description": None if pd.isna(project.get("description")) else project.get("description"),
        }
        for stamp in ("created_at", "updated_at"):
            if stamp in project.index and not pd.isna(project[stamp]):
                body[stamp] = pd.Timestamp(project[stamp]).strftime("%Y-%m-%dT%H:%M:%SZ")
        body["metrics"] = [
            {
                "metric_id": int(m.metric_id),
                "section": {"name": m.section_name},
                "platform": {"name": m.platform_name},
                "metric_new_name": m.metric_name,
                "weights": float(m.weight),
                "metric_type": m.metric_type,
            }
            for m in metrics.itertuples()
        ]
        categories = self.tables.get("categories")
        if categories is not None and not pd.isna(project.get("category_id")):
            cat = categories[categories["category_id"] == project["category_id"]]
            body["categories"] = _records(cat[["category_id", "category_name"]])
        body["platforms"] = sorted(metrics["platform_name"].unique().tolist())
        return {"project": body}

    def weight_sum(self, project_id: int) -> dict[str, Any]:
        self._project(project_id)
        metrics = self._metrics(project_id)
        sums = metrics.groupby("section_name")["weight"].sum()
        weight_sum = {s: float(sums[s]) for s in SECTIONS if s in sums.index}
        weight_sum.update({s: float(v) for s, v in sums.items() if s not in weight_sum})
        weight_sum["total"] = float(metrics["weight"].sum())
        return {
            "project_id": project_id,
            "weights": [
                {
                    "section": m.section_name,
                    "platform": m.platform_name,
                    "metric": m.metric_name,
                    "weight": float(m.weight),
                }
                for m in metrics.itertuples()
            ],
            "weight_sum": weight_sum,
        }

    def insights(self, project_id: int) -> dict[str, Any]:
        """Per brand: mean normalized value per section in its latest period (computed, opaque)."""
        records = pd.DataFrame(self.normalized(project_id, 0.0, 0))
        brands: list[dict[str, Any]] = []
        if not records.empty:
            for name, group in records.groupby("brandName", sort=True):
                latest = group["period"].max()
                last = group[group["period"] == latest]
                means = last.groupby("sectionName")["normalized"].mean().round(4)
                brands.append(
                    {
                        "brandName": name,
                        "latest_period": latest,
                        "n_values": int(len(group)),
                        "section_means": {k: float(v) for k, v in means.items() if not pd.isna(v)},
                    }
                )
        return {"project_id": project_id, "n_records": int(len(records)), "brands": brands}

    def brand_data(self, brand_id: int, project_id: int, drift: float, drift_seed: int) -> dict[str, Any]:
        self._project(project_id)
        brands = self.tables["brands"]
        brand = brands[brands["brand_id"] == brand_id]
        if brand.empty:
            raise HttpProblem(404, f"brand {brand_id} not found")
        pb = self.tables["project_brands"]
        member = pb[(pb["project_id"] == project_id) & (pb["brand_id"] == brand_id)]
        if member.empty:
            raise HttpProblem(404, f"brand {brand_id} is not a member of project {project_id}")
        brand_row = brand.iloc[0]
        category: dict[str, Any] = {"category_id": int(brand_row["category_id"]), "category_name": ""}
        categories = self.tables.get("categories")
        if categories is not None:
            cat = categories[categories["category_id"] == brand_row["category_id"]]
            if not cat.empty:
                category["category_name"] = cat.iloc[0]["category_name"]
        body: dict[str, Any] = {
            "brand_id": brand_id,
            "brand_name": brand_row["brand_name"],
            "project_id": project_id,
            "category": category,
            "role": member.iloc[0]["role"],
            "business_outcomes": [],
        }
        outcomes = self.tables.get("business_outcomes")
        if outcomes is not None:
            rows = outcomes[(outcomes["project_id"] == project_id) & (outcomes["brand_id"] == brand_id)]
            rows = rows.sort_values("period")
            cols = [c for c in OUTCOME_COLUMNS if c in rows]
            values = rows[cols].astype(float).to_numpy(copy=True)
            if drift > 0 and values.size:
                rng = np.random.default_rng([drift_seed, project_id, brand_id])
                hit = (rng.random(values.shape) < drift) & ~np.isnan(values)
                factor = 1 + rng.uniform(0.1, 0.3, values.shape) * rng.choice([-1.0, 1.0], values.shape)
                values = np.where(hit, values * factor, values)
            frame = pd.DataFrame(values, columns=cols)
            frame.insert(0, "period", _iso_date(rows["period"]).to_numpy())
            body["business_outcomes"] = _records(frame)
        return body

    def analytics(self, project_id: int) -> dict[str, Any]:
        records = pd.DataFrame(self.normalized(project_id, 0.0, 0))
        metrics: list[dict[str, Any]] = []
        if not records.empty:
            stats = records.groupby(["metric_id", "metricname", "sectionName", "platformname"])["normalized"].agg(
                ["count", "mean", "std", "min", "max"]
            )
            for (metric_id, name, section, platform), row in stats.iterrows():
                metrics.append(
                    {
                        "metric_id": int(metric_id),
                        "metricname": name,
                        "sectionName": section,
                        "platformname": platform,
                        "n_values": int(row["count"]),
                        **{
                            k: (None if pd.isna(row[k]) else round(float(row[k]), 6))
                            for k in ("mean", "std", "min", "max")
                        },
                    }
                )
        return {"project_id": project_id, "metrics": metrics}
