"""The two ERROR checks that block scoring (SPEC §5), verified on the clean set as it comes out,
independently of how the rules produced it: no V1, V2 or U1 violation left, and the quarantined
share of each project's rows within `quarantine_max_fraction`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.json_values import frame_records
from dc_pipeline.domain.quality.keys import counts_by_p
from dc_pipeline.domain.quality.quarantine import VALUE_KEY_COLUMNS
from dc_pipeline.domain.settings import DqConfig

BLOCKING_RULES = ("V1", "V2", "U1")
EXAMPLE_ROWS = 5


def duplicated_rows(ordered: np.ndarray, same_as_previous: np.ndarray, n_rows: int) -> np.ndarray:
    """Rows sharing their key with another: from rows in key order (`ordered`, positions among
    `n_rows`) and whether each has the key of the one before it."""
    dup = np.zeros(n_rows, bool)
    dup[ordered[same_as_previous]] = True
    dup[ordered[:-1][same_as_previous[1:]]] = True
    return dup


def blocking_checks(
    rows: pd.DataFrame,
    keep: np.ndarray,
    p: np.ndarray,
    usable: np.ndarray,
    duplicated: np.ndarray,
    quarantine: pd.DataFrame,
    n_landed: np.ndarray,
    config: DqConfig,
) -> list[list[dict]]:
    """Per project: [clean set check, quarantine share check], each {check, passed, message, rows}.
    The clean set is `rows` (every landed row, typed) where `keep`. Over the landed rows: `usable`
    whether their metric is a usable one of their project, `duplicated` whether another validated row
    has their (project, brand, metric, period). Over the validated rows: `p` their project position.
    `quarantine` carries p; `n_landed`: landed value rows per project."""
    n = len(n_landed)
    value = rows["normalized_value"].to_numpy(dtype="float64")
    bad_v1 = ~((value >= 0) & (value <= 100))[keep]  # NaN and +-inf compare false
    bad_v2 = ~np.asarray(usable, dtype=bool)[keep]
    bad_u1 = np.asarray(duplicated, dtype=bool)[keep]
    bad = bad_v1 | bad_v2 | bad_u1
    count = {
        name: np.bincount(p[flags], minlength=n) for name, flags in (("V1", bad_v1), ("V2", bad_v2), ("U1", bad_u1))
    }
    n_valid = counts_by_p(p, n)
    columns = [c for c in VALUE_KEY_COLUMNS if c in rows]
    bad_rows = np.flatnonzero(bad)
    landed_row = np.flatnonzero(keep)[bad_rows]  # each bad validated row's place among the landed rows
    examples = {
        i: frame_records(rows.iloc[landed_row[p[bad_rows] == i][:EXAMPLE_ROWS]][columns], non_finite="text")
        for i in np.unique(p[bad_rows])
    }

    value_q = quarantine[quarantine["source_table"] == "normalisedvalue"]
    q_p = value_q["p"].to_numpy(dtype="int64")
    held = {r: np.bincount(q_p[(value_q["rule_id"] == r).to_numpy()], minlength=n) for r in BLOCKING_RULES}
    n_quarantined = np.bincount(q_p, minlength=n)
    q_keys = value_q["row_key"].to_numpy(dtype=object)[np.argsort(q_p, kind="stable")]
    q_bounds = np.searchsorted(np.sort(q_p), np.arange(n + 1))
    limit = config.quarantine_max_fraction
    checks = []
    for i in range(n):
        held_text = ", ".join(f"{int(held[r][i])} {r}" for r in BLOCKING_RULES)
        clean = {
            "check": "clean_set_has_no_v1_v2_u1_violations",
            "passed": not (count["V1"][i] or count["V2"][i] or count["U1"][i]),
            "message": (
                f"clean set of {n_valid[i]} rows has {count['V1'][i]} V1, {count['V2'][i]} V2 and "
                f"{count['U1'][i]} U1 violations; quarantined: {held_text}"
            ),
            "rows": examples.get(i, []),
        }
        share = n_quarantined[i] / n_landed[i] if n_landed[i] else 0.0
        share_check = {
            "check": "quarantine_share_within_limit",
            "passed": bool(share <= limit + 1e-12),
            "message": (
                f"{n_quarantined[i]} of {n_landed[i]} landed value rows quarantined ({share:.2%}, limit {limit:.0%})"
            ),
            "rows": q_keys[q_bounds[i] : min(q_bounds[i] + EXAMPLE_ROWS, q_bounds[i + 1])].tolist(),
        }
        checks.append([clean, share_check])
    return checks
