"""The seven source tables assembled from the per-project parts, in SOURCE_COLUMNS order."""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator.spec import CATEGORY_ID, CATEGORY_NAME, FIRST_BRAND_ID, FIRST_VALUE_ID, VALUE_SOURCE
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS, SOURCE_COLUMNS


def brand_letters(index: int) -> str:
    """Spreadsheet-style letters: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = string.ascii_uppercase[rem] + letters
    return letters


def categories_table(created: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                category_id=CATEGORY_ID,
                category_name=CATEGORY_NAME,
                parent_category_id=None,
                description="Smartphone brands of the generated demo projects",
                created_at=created,
                updated_at=created,
            )
        ]
    ).astype({"parent_category_id": "Int64"})


def brands_table(pool: int, is_primary: np.ndarray, created: pd.Timestamp) -> pd.DataFrame:
    return pd.DataFrame(
        dict(
            brand_id=FIRST_BRAND_ID + np.arange(pool),
            brand_name=[f"Brand {brand_letters(b)}" for b in range(pool)],
            category_id=CATEGORY_ID,
            brand_type=np.where(is_primary, "primary", "competitor"),
            is_active=True,
            created_at=created,
            updated_at=created,
        )
    )


def _concat(parts: list[dict[str, np.ndarray]], column: str) -> np.ndarray:
    return np.concatenate([p[column] for p in parts])


def value_table(parts, dates: pd.DatetimeIndex, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    t = _concat(parts, "t")
    section_code = _concat(parts, "section")
    # -1 marks a row without a section label (rows of unknown metrics).
    labels = np.array([*SECTIONS, None], dtype=object)[section_code]
    n = t.size
    ts = stamps[t]
    return pd.DataFrame(
        {
            "id": FIRST_VALUE_ID + np.arange(n, dtype=np.int64),
            "project_id": _concat(parts, "project_id").astype(np.int64),
            "brand_id": _concat(parts, "brand_id").astype(np.int64),
            "metric_id": _concat(parts, "metric_id").astype(np.int64),
            "period": dates[t],
            "normalized_value": _concat(parts, "normalized_value").astype(float),
            "raw_value": np.full(n, np.nan),
            "section": pd.array(labels, dtype="str"),
            "source": pd.array(np.full(n, VALUE_SOURCE, dtype=object), dtype="str"),
            "created_at": ts,
            "updated_at": ts,
        },
        copy=False,
    )


def outcome_table(parts, dates: pd.DatetimeIndex, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    t = _concat(parts, "t")
    frame = pd.DataFrame(
        {
            "project_id": _concat(parts, "project_id").astype(np.int64),
            "brand_id": _concat(parts, "brand_id").astype(np.int64),
            "period": dates[t],
            **{c: _concat(parts, c) for c in OUTCOME_COLUMNS},
            "currency": "USD",
            "created_at": stamps[t],
            "updated_at": stamps[t],
        }
    )
    return frame.astype({"bestseller_rank": "Int64", "sales_units": "Int64"})


def ordered(name: str, df: pd.DataFrame) -> pd.DataFrame:
    columns = [*SOURCE_COLUMNS[name], "created_at", "updated_at"]
    if list(df.columns) == columns:  # already in order: no copy of a large frame
        return df
    return df[columns].reset_index(drop=True)
