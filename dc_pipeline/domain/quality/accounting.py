"""Every landed value row ends up exactly once: in the validated set or in the quarantine (SPEC §5)."""

from __future__ import annotations

from collections import Counter

import pandas as pd

EXAMPLE_IDS = 20


def _ids(values) -> Counter:
    return Counter(int(v) for v in pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna())


def account_for_rows(landed: pd.DataFrame, validated: pd.DataFrame, quarantine: pd.DataFrame) -> dict:
    """Counts and, by `id`, the landed rows that are missing from both sides or appear twice."""
    value_q = quarantine[quarantine["source_table"] == "normalisedvalue"] if len(quarantine) else quarantine
    n_landed, n_valid, n_quarantined = len(landed), len(validated), len(value_q)
    landed_ids = _ids(landed["id"]) if "id" in landed else Counter()
    kept_ids = _ids(validated["id"]) if "id" in validated else Counter()
    kept_ids.update(_ids(key.get("id") for key in value_q["row_key"]) if len(value_q) else Counter())
    missing = sorted((landed_ids - kept_ids).elements())  # landed, found nowhere: dropped silently
    extra = sorted((kept_ids - landed_ids).elements())  # counted twice, or never landed
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
