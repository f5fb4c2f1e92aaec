"""Parsed Digi-Cadence API bodies -> the landing frames of the api_* assets (SPEC §0, §3).

Pure pandas over the parsed records (duck-typed: any object with the fields the API models carry). Empty
frames keep their column types, so the landing tables get the right SQL types.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from dc_pipeline.domain import api_mapping
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS

_PROBLEM_INDEX = re.compile(r"^\[(\d+)\]")
NORMALIZED_RECORD_COLUMNS = ["metricname", "sectionName", "platformname", "brandName", "normalized", "period",
                             "updated_at"]  # fmt: skip
PROJECT_METRIC_DTYPES = {
    "project_id": "int64",
    "api_metric_id": "Int64",
    "section_name": object,
    "platform_name": object,
    "metric_name": object,
    "weight": "float64",
    "metric_type": object,
}
BRAND_DTYPES = {
    "project_id": "int64",
    "brand_id": "int64",
    "status": object,
    "brand_name": object,
    "name_matches_reference": object,
    "category_id": "Int64",
    "category_name": object,
    "role": object,
    "detail": object,
}
OUTCOME_DTYPES = {"project_id": "int64", "brand_id": "int64", "period": "datetime64[ns]",
                  **{c: "float64" for c in OUTCOME_COLUMNS}}  # fmt: skip


def typed(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """The frame's columns in `dtypes` order; an empty frame with those types."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    return frame[list(dtypes)].astype(dtypes)


def raw_bodies(project_id: int, bodies: list) -> pd.DataFrame:
    """The raw JSON bodies an asset was built from (SPEC §0: raw JSON kept in dc_staging)."""
    return pd.DataFrame(
        {
            "project_id": pd.Series([project_id] * len(bodies), dtype="int64"),
            "path": pd.Series([b.path for b in bodies], dtype=object),
            "params": pd.Series([b.params for b in bodies], dtype=object),
            "sha256": pd.Series([b.sha256 for b in bodies], dtype=object),
            "n_bytes": pd.Series([len(b.body) for b in bodies], dtype="int64"),
            "from_cache": pd.Series([b.from_cache for b in bodies], dtype=bool),
            "fetched_at": pd.Series(
                [datetime.fromtimestamp(b.fetched_at, tz=UTC) for b in bodies], dtype="datetime64[ns, UTC]"
            ),
            "body_json": pd.Series([b.body.decode("utf-8", errors="replace") for b in bodies], dtype=object),
        }
    )


def normalized_records(records: list, problems: list[str], n_received: int) -> pd.DataFrame:
    """The valid records of a normalized-values body, each with its index in the body."""
    bad_index = {int(m.group(1)) for p in problems if (m := _PROBLEM_INDEX.match(p))}
    valid_index = [i for i in range(n_received) if i not in bad_index]
    frame = pd.DataFrame([r.model_dump() for r in records], columns=NORMALIZED_RECORD_COLUMNS)
    frame["record_index"] = valid_index[: len(frame)]
    return frame


def invalid_records(project_id: int, problems: list[str], last_body: bytes | None) -> pd.DataFrame:
    """Schema violations are DQ failures, not crashes: one quarantine row per invalid field."""
    if not problems:
        return api_mapping.empty_quarantine()
    items = json.loads(last_body) if last_body else []
    keys, payloads = [], []
    for problem in problems:
        match = _PROBLEM_INDEX.match(problem)
        index = int(match.group(1)) if match else None
        keys.append({"record_index": index})
        payloads.append(items[index] if index is not None and index < len(items) else {})
    return api_mapping.quarantine_rows(project_id, "invalid_record", [f"schema: {p}" for p in problems], keys, payloads)


def project_meta(project_id: int, meta: Any, reference_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary row, metric definitions) of a project-meta body."""
    summary = pd.DataFrame(
        {
            "project_id": [project_id],
            "project_name": [meta.project_name],
            "description": [meta.description],
            "n_metrics": [len(meta.metrics)],
            "api_updated_at": pd.Series([meta.updated_at], dtype="datetime64[ns, UTC]"),
            "name_matches_reference": [meta.project_name == reference_name],
        }
    )
    metrics = pd.DataFrame(
        {
            "project_id": [project_id] * len(meta.metrics),
            "api_metric_id": pd.array([m.metric_id for m in meta.metrics], dtype="Int64"),
            "section_name": [m.section.name for m in meta.metrics],
            "platform_name": [m.platform.name for m in meta.metrics],
            "metric_name": [m.metric_new_name for m in meta.metrics],
            "weight": [float(m.weights) for m in meta.metrics],
            "metric_type": [m.metric_type for m in meta.metrics],
        }
    )
    return summary, typed(metrics, PROJECT_METRIC_DTYPES)


def weights(body: Any) -> pd.DataFrame:
    return pd.DataFrame([w.model_dump() for w in body.weights], columns=["section", "platform", "metric", "weight"])


def brand_data(project_id: int, answers: list[tuple[int, Any, str | None]], names: dict[int, str]):
    """(brand rows, outcome rows) from (brand_id, body or None, not-found detail) per member brand."""
    brand_rows, outcome_rows = [], []
    for brand_id, data, missing in answers:
        if data is None:
            row = {"project_id": project_id, "brand_id": brand_id, "status": "not_found", "detail": missing}
            brand_rows.append(row)
            continue
        brand_rows.append(
            {
                "project_id": project_id,
                "brand_id": brand_id,
                "status": "ok",
                "brand_name": data.brand_name,
                "name_matches_reference": data.brand_name == names.get(brand_id),
                "category_id": data.category.category_id,
                "category_name": data.category.category_name,
                "role": data.role,
                "detail": None,
            }
        )
        for outcome in data.business_outcomes:
            outcome_rows.append({"project_id": project_id, "brand_id": brand_id, **outcome.model_dump()})
    brands = typed(pd.DataFrame(brand_rows, columns=list(BRAND_DTYPES)), BRAND_DTYPES)
    outcomes = typed(pd.DataFrame(outcome_rows, columns=list(OUTCOME_DTYPES)), OUTCOME_DTYPES)
    return brands, outcomes
