"""Robustness in report health (SPEC §7.1, §9): a brand named in an insight whose DC 5-95 % band
under Monte Carlo weights crosses a tier boundary makes the report REVIEW."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from dc_pipeline.domain.robustness.monte_carlo import crossed_boundaries


def tier_band_reasons(
    monte_carlo: pd.DataFrame,
    brand_ids: Iterable[int],
    names: Mapping[int, str] | None = None,
    period: Any = None,
) -> list[dict[str, Any]]:
    """REVIEW reasons for the brands in `brand_ids` whose [dc_lo, dc_hi] crosses 60 or 80.

    `monte_carlo`: one project's `monte_carlo_weight_ranks` rows (robustness_monte_carlo);
    `period`: the period the report shows (default: the table's latest). Each reason is
    {"code": "tier_uncertain", "message", "value": [dc_lo, dc_hi], "threshold": [boundaries crossed]},
    the shape of SPEC §7.1 health reasons. A brand without a band at that period gives no reason.
    """
    wanted = {int(b) for b in brand_ids}
    if monte_carlo is None or monte_carlo.empty or not wanted:
        return []
    if monte_carlo["project_id"].nunique() > 1:
        raise ValueError("tier_band_reasons takes one project's robustness rows; filter by project_id first")
    periods = pd.to_datetime(monte_carlo["period"])
    shown = periods.max() if period is None else pd.Timestamp(period)
    rows = monte_carlo[(periods == shown) & monte_carlo["brand_id"].isin(wanted)].sort_values("brand_id")
    reasons = []
    for row in rows.itertuples():
        crossed = crossed_boundaries(row.dc_lo, row.dc_hi)
        if not crossed:
            continue
        name = (names or {}).get(int(row.brand_id), f"brand {int(row.brand_id)}")
        boundaries = " and ".join(f"{t:g}" for t in crossed)
        reasons.append(
            {
                "code": "tier_uncertain",
                "message": f"{name} is named in an insight, but its DC 5-95 % band under weight changes "
                f"[{row.dc_lo:.1f}, {row.dc_hi:.1f}] ({shown.date()}) crosses the tier boundary {boundaries}",
                "value": [float(row.dc_lo), float(row.dc_hi)],
                "threshold": [float(t) for t in crossed],
            }
        )
    return reasons
