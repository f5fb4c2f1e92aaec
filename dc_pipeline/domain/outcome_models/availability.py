"""Whether an outcome can be modelled at all: the plain reason when it cannot (status missing_input).

Two different situations used to read alike ("revenue is null for all 0 brand-periods"): nothing was
scored (the input of every model is missing), or the brand-periods were scored but the outcome was
never reported (or every reported value was quarantined by V5).
"""

from __future__ import annotations

import pandas as pd


def missing_outcome_reason(target: str, outcome: pd.Series, scope: str) -> str | None:
    """None when `outcome` (the target over the scored brand-periods of `scope`) has a value."""
    if len(outcome) == 0:
        return (
            f"missing input: no scored brand-periods for {scope} (observed 0, required >= 1); "
            "dc_scores has no rows for it: check that its validation passed and dc_scores was materialized"
        )
    if outcome.notna().any():
        return None
    return (
        f"missing outcome: {target} is null in all {len(outcome)} scored brand-periods of {scope} "
        "(never reported, or every reported value failed V5 and was quarantined)"
    )
