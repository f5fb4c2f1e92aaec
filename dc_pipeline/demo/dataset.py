"""The demo dataset as loaded by `dc-pipeline db load-demo` and served by the simulator (SPEC §12).

`demo_dataset(size, seed)` = the TechCorp fixture (§4) + the generated projects of a named size.
`dataset_sha256(tables)` is the deterministic fingerprint the determinism test compares.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator import DemoData, generate
from dc_pipeline.demo.techcorp import techcorp_tables
from dc_pipeline.domain.source_tables import SOURCE_COLUMNS, SOURCE_TABLES

# Generator knobs per named size. Rows of normalisedvalue ~= projects * brands * 9 platforms *
# metrics_per_platform * mean history (profiles full/12/6/full: 22.5 of 36 periods) * 0.99.
SIZES: dict[str, dict[str, Any]] = {
    "small": dict(projects=4, brands_per_project=5, metrics_per_platform=3, periods=36),  # ~12 k rows
    "medium": dict(projects=24, brands_per_project=10, metrics_per_platform=3, periods=36),  # ~144 k rows
    "large": dict(projects=320, brands_per_project=20, metrics_per_platform=4, periods=36),  # ~5.13 M rows
}

# Sort keys that give every table a total order independent of the incoming row order.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "categories": ("category_id",),
    "projects": ("project_id",),
    "brands": ("brand_id",),
    "project_brands": ("project_id", "brand_id"),
    "metrics": ("metric_id",),
    "normalisedvalue": ("project_id", "brand_id", "metric_id", "period", "id"),
    "business_outcomes": ("project_id", "brand_id", "period"),
}
TIMESTAMP_COLUMNS = ("created_at", "updated_at")
_CSV_CHUNK_ROWS = 250_000


def demo_dataset(size: str = "small", seed: int = 42, **overrides: Any) -> DemoData:
    """TechCorp fixture tables concatenated with the generated tables of `size` (knobs overridable)."""
    if size not in SIZES:
        raise ValueError(f"unknown demo size {size!r}; expected one of {sorted(SIZES)}")
    generated = generate(seed=seed, **{**SIZES[size], **overrides})
    fixture = techcorp_tables()
    tables = {name: pd.concat([fixture[name], generated.tables[name]], ignore_index=True) for name in SOURCE_TABLES}
    return DemoData(tables=tables, planted_faults=generated.planted_faults)


def dataset_sha256(tables: dict[str, pd.DataFrame]) -> str:
    """sha256 over every table's rows sorted by TABLE_KEYS and dumped as CSV, tables in SOURCE_TABLES order.

    Columns are SOURCE_COLUMNS plus created_at/updated_at when present; other columns are ignored.
    """
    digest = hashlib.sha256()
    for name in SOURCE_TABLES:
        df = tables[name]
        columns = [*SOURCE_COLUMNS[name], *(c for c in TIMESTAMP_COLUMNS if c in df.columns)]
        ordered = df[columns].sort_values(list(TABLE_KEYS[name]), kind="mergesort", ignore_index=True)
        ordered = ordered.assign(
            **{
                c: _iso_text(ordered[c])
                for c in columns
                if isinstance(ordered[c].dtype, (np.dtype, pd.DatetimeTZDtype)) and ordered[c].dtype.kind == "M"
            }
        )
        digest.update(f"# {name} {len(ordered)}\n".encode())
        digest.update((",".join(columns) + "\n").encode())
        for lo in range(0, len(ordered), _CSV_CHUNK_ROWS):
            chunk = ordered.iloc[lo : lo + _CSV_CHUNK_ROWS]
            digest.update(chunk.to_csv(index=False, header=False, lineterminator="\n").encode())
    return digest.hexdigest()


def _iso_text(column: pd.Series) -> pd.Series:
    """ISO 8601 text of a datetime column, formatting each distinct value once (dates repeat a lot)."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    text = np.array([t.isoformat() for t in uniques] + [""], dtype=object)
    return pd.Series(text[codes], index=column.index, dtype=object)
