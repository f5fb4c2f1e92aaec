"""Turn per-unit pass/fail verdicts into `rule_results` rows, one per (rule, brand).

brand_id is null for project-level units (metric definitions, volume, weights), so a project total is
the sum over all rows of a rule and a brand total is that brand's row only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.catalog import RULE_RESULT_COLUMNS, RULES

Describe = Callable[[int, int], str]
RuleRows = list[dict]  # rule_results rows, turned into one frame by `as_frame` at the end


def _row(rule_id: str, brand_id, units: int, passed: int, message: str) -> dict:
    rule = RULES[rule_id]
    return {
        "rule_id": rule_id,
        "dimension": rule.dimension,
        "severity": rule.severity,
        "brand_id": brand_id,
        "units": int(units),
        "passed": int(passed),
        "failed": int(units - passed),
        "message": message,
    }


def default_describe(rule_id: str, what: str) -> Describe:
    unit = RULES[rule_id].unit
    return lambda failed, units: f"{failed} of {units} {unit} {what}"


def no_units(rule_id: str, message: str) -> RuleRows:
    """A rule that could not be evaluated: zero units, so it weighs nothing, and says why."""
    return [_row(rule_id, pd.NA, 0, 0, message)]


def tally_units(rule_id: str, brand_ids, passed, describe: Describe, empty_message: str) -> RuleRows:
    """Units given one by one: `brand_ids` (None for project-level) and a boolean `passed` array."""
    passed = np.asarray(passed, dtype=bool)
    if passed.size == 0:
        return no_units(rule_id, empty_message)
    if brand_ids is None:
        n_pass = int(passed.sum())
        return [_row(rule_id, pd.NA, passed.size, n_pass, describe(passed.size - n_pass, passed.size))]
    brands = np.asarray(brand_ids, dtype="float64")
    brands = np.where(np.isfinite(brands), brands, np.nan)  # one 'project-level' bucket for unknown brands
    unique, codes = np.unique(brands, return_inverse=True)
    units = np.bincount(codes, minlength=unique.size)
    n_pass = np.bincount(codes, weights=passed, minlength=unique.size).astype("int64")
    return tally_counts(rule_id, unique, units, n_pass, describe, empty_message)


def tally_counts(rule_id: str, brand_ids, units, passed, describe: Describe, empty_message: str) -> RuleRows:
    """Units already counted per brand (brand_ids may hold nulls for project-level units)."""
    rows = []
    for brand, n_units, n_pass in zip(brand_ids, units, passed):
        if n_units <= 0:
            continue
        brand = pd.NA if pd.isna(brand) else int(brand)
        rows.append(_row(rule_id, brand, int(n_units), int(n_pass), describe(int(n_units - n_pass), int(n_units))))
    return rows if rows else no_units(rule_id, empty_message)


def as_frame(rows: RuleRows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(RULE_RESULT_COLUMNS))
    frame["brand_id"] = pd.array(frame["brand_id"], dtype="Int64")
    for col in ("units", "passed", "failed"):
        frame[col] = frame[col].astype("int64")
    return frame
