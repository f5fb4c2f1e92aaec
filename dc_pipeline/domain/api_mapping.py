"""Digi-Cadence API records -> pipeline ids, and API vs Postgres reconciliation (SPEC §3, §5 K3/K4).

Pure pandas. Names resolve through the reference snapshot and the project's metric definitions:
brandName -> brand_id, (project, sectionName, platformname, metricname) -> metric_id. A record that
cannot be mapped is returned as a quarantine row with rule `unknown_brand`, `unknown_metric` or
`period_missing`; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

QUARANTINE_COLUMNS = ("project_id", "source", "rule_id", "severity", "reason", "row_key", "row_payload")
MAPPED_VALUE_COLUMNS = (
    "project_id",
    "brand_id",
    "metric_id",
    "period",
    "normalized_value",
    "updated_at",
    "record_index",
)
MAPPED_WEIGHT_COLUMNS = ("project_id", "metric_id", "section_name", "platform_name", "metric_name", "weight")
DIFFERENCE_COLUMNS = (
    "project_id",
    "kind",
    "brand_id",
    "metric_id",
    "period",
    "api_value",
    "postgres_value",
    "abs_diff",
)
VALUE_KEY = ["brand_id", "metric_id", "period"]
RECORD_NAME_COLUMNS = ("brandName", "sectionName", "platformname", "metricname")


def _as_periods(values: Any) -> pd.Series:
    return pd.Series(pd.to_datetime(values, errors="coerce")).astype("datetime64[ns]")


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "project_id" else object) for c in QUARANTINE_COLUMNS})


def quarantine_rows(
    project_id: int, rule_id: str, reasons: list[str], keys: list[dict], payloads: list[dict], severity: str = "ERROR"
) -> pd.DataFrame:
    if not reasons:
        return empty_quarantine()
    return pd.DataFrame(
        {
            "project_id": np.full(len(reasons), int(project_id), dtype="int64"),
            "source": "api",
            "rule_id": rule_id,
            "severity": severity,
            "reason": reasons,
            "row_key": keys,
            "row_payload": payloads,
        }
    )


def single_period(project: Mapping[str, Any]) -> tuple[pd.Timestamp | None, str]:
    """The project's only period, or None and why there is not exactly one."""
    start, end = project.get("start_date"), project.get("end_date")
    if start is None or pd.isna(start):
        return None, f"project {project['project_id']} has no start_date"
    if end is None or pd.isna(end):
        return None, f"project {project['project_id']} has no end_date, so its periods are open-ended"
    freq = "QS" if project.get("period_grain") == "quarter" else "MS"
    periods = pd.date_range(pd.Timestamp(start).to_period(freq[0]).start_time, pd.Timestamp(end), freq=freq)
    if len(periods) == 1:
        return periods[0], "one period"
    return None, (
        f"project {project['project_id']} spans {len(periods)} periods ({periods[0]:%Y-%m-%d}..{periods[-1]:%Y-%m-%d})"
        if len(periods)
        else "an empty date range"
    )


def _metric_lookup(metrics: pd.DataFrame, project_id: int) -> pd.DataFrame:
    """One row per (section, platform, name) of the project: the metric_id, or n_defs > 1."""
    own = metrics[metrics["project_id"] == project_id]
    grouped = own.groupby(["section_name", "platform_name", "metric_name"], sort=False)["metric_id"]
    return grouped.agg(metric_id="min", n_defs="count", ids=lambda s: ", ".join(map(str, sorted(s)))).reset_index()


def map_normalized_records(
    records: pd.DataFrame, project: Mapping[str, Any], brands: pd.DataFrame, metrics: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`records`: metricname, sectionName, platformname, brandName, normalized, period, updated_at,
    record_index (API order). Returns (mapped MAPPED_VALUE_COLUMNS, quarantine QUARANTINE_COLUMNS)."""
    project_id = int(project["project_id"])
    recs = records.reset_index(drop=True).copy()
    names = brands.drop_duplicates("brand_name")[["brand_name", "brand_id"]]
    recs = recs.merge(names.rename(columns={"brand_name": "brandName"}), on="brandName", how="left")
    lookup = _metric_lookup(metrics, project_id).rename(
        columns={"section_name": "sectionName", "platform_name": "platformname", "metric_name": "metricname"}
    )
    recs = recs.merge(lookup, on=["sectionName", "platformname", "metricname"], how="left")
    recs["period"] = _as_periods(recs["period"]) if "period" in recs else pd.Series(pd.NaT, index=recs.index)
    only, why = single_period(project)
    unknown_brand = recs["brand_id"].isna()
    unknown_metric = ~unknown_brand & (recs["metric_id"].isna() | (recs["n_defs"].fillna(0) > 1))
    no_period = ~unknown_brand & ~unknown_metric & recs["period"].isna()
    if only is not None:
        recs.loc[no_period, "period"] = only
        no_period &= False

    def payload(rows: pd.DataFrame) -> list[dict]:
        cols = [c for c in (*RECORD_NAME_COLUMNS, "normalized", "period") if c in rows]
        out = rows[cols].astype(object).where(rows[cols].notna(), None)
        out["period"] = [p.strftime("%Y-%m-%d") if p is not None else None for p in out["period"]]
        return out.to_dict("records")

    def keys(rows: pd.DataFrame) -> list[dict]:
        return [{"record_index": int(i), "brandName": b} for i, b in zip(rows["record_index"], rows["brandName"])]

    parts = []
    bad = recs[unknown_brand]
    parts.append(
        quarantine_rows(
            project_id,
            "unknown_brand",
            [f"brandName {b!r} is not a brand in reference_snapshot" for b in bad["brandName"]],
            keys(bad),
            payload(bad),
        )
    )
    bad = recs[unknown_metric]
    parts.append(
        quarantine_rows(
            project_id,
            "unknown_metric",
            [
                (
                    f"({s!r}, {p!r}, {m!r}) matches {int(n)} metric definitions ({ids}) of project {project_id}"
                    if n > 1
                    else f"no metric ({s!r}, {p!r}, {m!r}) in project {project_id}"
                )
                for s, p, m, n, ids in zip(
                    bad["sectionName"],
                    bad["platformname"],
                    bad["metricname"],
                    bad["n_defs"].fillna(0),
                    bad["ids"].fillna(""),
                )
            ],
            keys(bad),
            payload(bad),
        )
    )
    bad = recs[no_period]
    parts.append(
        quarantine_rows(
            project_id, "period_missing", [f"record has no period and {why}"] * len(bad), keys(bad), payload(bad)
        )
    )
    quarantine = pd.concat(parts, ignore_index=True)

    ok = recs[~(unknown_brand | unknown_metric | no_period)]
    mapped = pd.DataFrame(
        {
            "project_id": np.full(len(ok), project_id, dtype="int64"),
            "brand_id": ok["brand_id"].astype("int64").to_numpy(),
            "metric_id": ok["metric_id"].astype("int64").to_numpy(),
            "period": ok["period"].to_numpy(),
            "normalized_value": pd.to_numeric(ok["normalized"], errors="coerce").astype("float64").to_numpy(),
            "updated_at": pd.to_datetime(ok["updated_at"], utc=True, errors="coerce").to_numpy()
            if "updated_at" in ok
            else pd.NaT,
            "record_index": ok["record_index"].astype("int64").to_numpy(),
        }
    )
    mapped["updated_at"] = pd.to_datetime(mapped["updated_at"], utc=True)
    return mapped, quarantine


def map_weights(weights: pd.DataFrame, project_id: int, metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`weights`: section, platform, metric, weight (GET /weight_sum). Returns (mapped
    MAPPED_WEIGHT_COLUMNS, quarantine) where an unresolvable (section, platform, metric) is `unknown_metric`."""
    lookup = _metric_lookup(metrics, int(project_id))
    frame = weights.rename(columns={"section": "section_name", "platform": "platform_name", "metric": "metric_name"})
    frame = frame.merge(lookup, on=["section_name", "platform_name", "metric_name"], how="left")
    bad_mask = frame["metric_id"].isna() | (frame["n_defs"].fillna(0) > 1)
    bad = frame[bad_mask]
    quarantine = quarantine_rows(
        int(project_id),
        "unknown_metric",
        [
            f"weight for ({s!r}, {p!r}, {m!r}) matches {int(n)} metric definitions of project {project_id}"
            for s, p, m, n in zip(
                bad["section_name"], bad["platform_name"], bad["metric_name"], bad["n_defs"].fillna(0)
            )
        ],
        [
            {"section": s, "platform": p, "metric": m}
            for s, p, m in zip(bad["section_name"], bad["platform_name"], bad["metric_name"])
        ],
        [{"weight": float(w)} for w in bad["weight"]],
    )
    ok = frame[~bad_mask]
    mapped = pd.DataFrame(
        {
            "project_id": np.full(len(ok), int(project_id), dtype="int64"),
            "metric_id": ok["metric_id"].astype("int64").to_numpy(),
            "section_name": ok["section_name"].astype(str).to_numpy(),
            "platform_name": ok["platform_name"].astype(str).to_numpy(),
            "metric_name": ok["metric_name"].astype(str).to_numpy(),
            "weight": ok["weight"].astype("float64").to_numpy(),
        }
    )
    return mapped, quarantine


# ----------------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True)
class Reconciliation:
    """Differences between the API and Postgres for one project (DIFFERENCE_COLUMNS)."""

    differences: pd.DataFrame
    n_api_keys: int
    n_postgres_keys: int
    n_common_keys: int
    n_weights_compared: int

    def count(self, kind: str) -> int:
        return int((self.differences["kind"] == kind).sum())

    @property
    def clean(self) -> bool:
        return self.differences.empty


def _per_key(values: pd.DataFrame) -> pd.DataFrame:
    """min/max value per (brand, metric, period): duplicates on one side compare as a range."""
    frame = pd.DataFrame(
        {
            "brand_id": pd.to_numeric(values["brand_id"], errors="coerce"),
            "metric_id": pd.to_numeric(values["metric_id"], errors="coerce"),
            "period": _as_periods(values["period"]).to_numpy(),
            "value": pd.to_numeric(values["normalized_value"], errors="coerce").astype("float64"),
        }
    ).dropna(subset=VALUE_KEY)
    frame[["brand_id", "metric_id"]] = frame[["brand_id", "metric_id"]].astype("int64")
    return frame.groupby(VALUE_KEY, sort=True)["value"].agg(["min", "max"]).reset_index()


def _range_diff(a_min, a_max, b_min, b_max) -> np.ndarray:
    """Largest gap between the two sides' ranges; equal NaN counts as 0, NaN vs a number as inf."""
    out = np.zeros(len(a_min))
    for a, b in ((a_min, b_min), (a_max, b_max)):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        gap = np.abs(a - b)
        gap = np.where(np.isnan(a) & np.isnan(b), 0.0, np.where(np.isnan(a) ^ np.isnan(b), np.inf, gap))
        out = np.maximum(out, gap)
    return out


def reconcile(
    project_id: int,
    api_values: pd.DataFrame,
    postgres_values: pd.DataFrame,
    api_weights: pd.DataFrame,
    metrics: pd.DataFrame,
    value_tolerance: float = 0.01,
    weight_tolerance: float = 1e-9,
) -> Reconciliation:
    """Keys on one side only, values differing by more than `value_tolerance` (K3), and API weights
    differing from `metrics.weight` or missing from either side (K4). Frames: values with
    brand_id, metric_id, period, normalized_value; weights and metrics with metric_id, weight."""
    api, pg = _per_key(api_values), _per_key(postgres_values)
    both = api.merge(pg, on=VALUE_KEY, how="outer", suffixes=("_api", "_pg"), indicator=True)
    diff = _range_diff(both["min_api"], both["max_api"], both["min_pg"], both["max_pg"])
    kind = np.select(
        [both["_merge"] == "left_only", both["_merge"] == "right_only", diff > value_tolerance],
        ["only_api", "only_postgres", "value_differs"],
        default="",
    )
    value_rows = pd.DataFrame(
        {
            "kind": kind,
            "brand_id": both["brand_id"].astype("Int64"),
            "metric_id": both["metric_id"].astype("Int64"),
            "period": both["period"],
            "api_value": both["max_api"],
            "postgres_value": both["max_pg"],
            "abs_diff": np.where(both["_merge"] == "both", diff, np.nan),
        }
    )
    value_rows = value_rows[value_rows["kind"] != ""]

    aw = api_weights[["metric_id", "weight"]].astype({"metric_id": "int64", "weight": "float64"})
    aw = aw.groupby("metric_id", sort=True)["weight"].max().reset_index()
    own = metrics[metrics["project_id"] == project_id] if "project_id" in metrics else metrics
    pw = own[["metric_id", "weight"]].astype({"metric_id": "int64", "weight": "float64"})
    w = aw.merge(pw, on="metric_id", how="outer", suffixes=("_api", "_pg"), indicator=True)
    wdiff = np.abs(w["weight_api"] - w["weight_pg"]).to_numpy()
    wkind = np.select(
        [w["_merge"] == "left_only", w["_merge"] == "right_only", wdiff > weight_tolerance],
        ["weight_only_api", "weight_only_postgres", "weight_differs"],
        default="",
    )
    weight_rows = pd.DataFrame(
        {
            "kind": wkind,
            "brand_id": pd.array([pd.NA] * len(w), dtype="Int64"),
            "metric_id": w["metric_id"].astype("Int64"),
            "period": pd.Series(pd.NaT, index=w.index, dtype="datetime64[ns]"),
            "api_value": w["weight_api"],
            "postgres_value": w["weight_pg"],
            "abs_diff": wdiff,
        }
    )
    weight_rows = weight_rows[weight_rows["kind"] != ""]

    differences = pd.concat([value_rows, weight_rows], ignore_index=True)
    differences.insert(0, "project_id", np.full(len(differences), int(project_id), dtype="int64"))
    differences = differences.astype(
        {"kind": str, "api_value": "float64", "postgres_value": "float64", "abs_diff": "float64"}
    )
    differences["period"] = differences["period"].astype("datetime64[ns]")
    return Reconciliation(
        differences=differences[list(DIFFERENCE_COLUMNS)].reset_index(drop=True),
        n_api_keys=len(api),
        n_postgres_keys=len(pg),
        n_common_keys=int((both["_merge"] == "both").sum()),
        n_weights_compared=int((w["_merge"] == "both").sum()),
    )


def difference_examples(differences: pd.DataFrame, kind: str, limit: int = 5) -> list[str]:
    """Readable keys of the first differences of one kind, e.g. 'b11 m1003 2024-03-01: api 41.2 vs pg 40.1'."""
    rows = differences[differences["kind"] == kind].head(limit)
    out = []
    for r in rows.itertuples():
        where = " ".join(
            part
            for part in (
                f"b{r.brand_id}" if not pd.isna(r.brand_id) else "",
                f"m{r.metric_id}",
                f"{r.period:%Y-%m-%d}" if not pd.isna(r.period) else "",
            )
            if part
        )
        out.append(f"{where}: api {r.api_value:.4g} vs postgres {r.postgres_value:.4g}")
    return out
