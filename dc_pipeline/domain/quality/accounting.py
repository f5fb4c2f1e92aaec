"""Every landed value row ends up exactly once: in the validated set or in the quarantine (SPEC §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd

EXAMPLE_IDS = 20


def _ids(values) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return pd.to_numeric(series, errors="coerce").dropna().to_numpy().astype(np.int64)


def _surplus(ids: np.ndarray, others: np.ndarray) -> list[int]:
    """The ids of `ids` left after taking away one for each occurrence in `others` (a multiset difference,
    sorted), in numpy: a Counter over a run's million ids was most of the step's accounting time."""
    values, counts = np.unique(ids, return_counts=True)
    other_values, other_counts = np.unique(others, return_counts=True)
    at = np.searchsorted(other_values, values)
    inside = at < len(other_values)
    matched = np.zeros(len(values), dtype=bool)
    matched[inside] = other_values[at[inside]] == values[inside]
    taken = np.zeros(len(values), dtype=np.int64)
    taken[matched] = other_counts[at[matched]]
    return np.repeat(values, np.clip(counts - taken, 0, None)).tolist()


def account_for_rows(landed: pd.DataFrame, validated: pd.DataFrame, quarantine: pd.DataFrame) -> dict:
    """Counts and, by `id`, the landed rows that are missing from both sides or appear twice."""
    value_q = quarantine[quarantine["source_table"] == "normalisedvalue"] if len(quarantine) else quarantine
    n_landed, n_valid, n_quarantined = len(landed), len(validated), len(value_q)
    none = np.empty(0, dtype=np.int64)
    landed_ids = _ids(landed["id"]) if "id" in landed else none
    kept_ids = np.concatenate(
        [
            _ids(validated["id"]) if "id" in validated else none,
            _ids(key.get("id") for key in value_q["row_key"]) if len(value_q) else none,
        ]
    )
    missing = _surplus(landed_ids, kept_ids)  # landed, found nowhere: dropped silently
    extra = _surplus(kept_ids, landed_ids)  # counted twice, or never landed
    passed = n_valid + n_quarantined == n_landed and not missing and not extra
    return {
        "passed": passed,
        "landed": n_landed,
        "validated": n_valid,
        "quarantined": n_quarantined,
        "missing_ids": missing[:EXAMPLE_IDS],
        "n_missing": len(missing),
        "extra_ids": extra[:EXAMPLE_IDS],
        "n_extra": len(extra),
        "message": (
            f"{n_valid} validated + {n_quarantined} quarantined = {n_valid + n_quarantined} of {n_landed} "
            f"landed value rows; {len(missing)} landed ids unaccounted for, {len(extra)} ids extra"
        ),
    }
