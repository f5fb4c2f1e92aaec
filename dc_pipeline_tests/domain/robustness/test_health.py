"""Robustness in report health (SPEC §7.1): brands named in insights whose DC band crosses a tier boundary."""

from __future__ import annotations

import pandas as pd
import pytest

from dc_pipeline.domain.robustness import monte_carlo_weight_ranks, tier_band_reasons
from dc_pipeline_tests.domain.robustness.test_robustness import CLOSE_FIELD, ONE_PER_SECTION, by_section


def _band(brand_id: int, lo: float, hi: float, period: str = "2024-04-01", project_id: int = 1) -> dict:
    return {"project_id": project_id, "brand_id": brand_id, "period": pd.Timestamp(period), "dc_lo": lo, "dc_hi": hi}


def test_only_named_brands_whose_band_crosses_a_boundary_give_a_reason():
    table = pd.DataFrame([_band(1, 78.9, 81.2), _band(2, 58.0, 82.0), _band(3, 61.0, 79.0), _band(4, 79.0, 80.0)])
    reasons = tier_band_reasons(table, [1, 2, 3], names={1: "Brand A"})
    assert [r["value"] for r in reasons] == [[78.9, 81.2], [58.0, 82.0]]  # brand 3 stays medium; 4 not named
    assert reasons[0] == {
        "code": "tier_uncertain",
        "message": "Brand A is named in an insight, but its DC 5-95 % band under weight changes [78.9, 81.2] "
        "(2024-04-01) crosses the tier boundary 80",
        "value": [78.9, 81.2],
        "threshold": [80.0],
    }
    assert reasons[1]["threshold"] == [60.0, 80.0] and "brand 2" in reasons[1]["message"]


def test_a_band_ending_at_a_boundary_from_below_does_not_cross_it_one_starting_on_it_does_not_either():
    table = pd.DataFrame([_band(1, 79.0, 79.99), _band(2, 80.0, 85.0), _band(3, 79.99, 80.0)])
    assert [r["value"] for r in tier_band_reasons(table, [1, 2, 3])] == [[79.99, 80.0]]


def test_the_latest_period_is_judged_unless_the_report_shows_another():
    table = pd.DataFrame([_band(1, 78.0, 82.0, "2024-03-01"), _band(1, 81.0, 84.0, "2024-04-01")])
    assert tier_band_reasons(table, [1]) == []
    assert len(tier_band_reasons(table, [1], period="2024-03-01")) == 1
    assert tier_band_reasons(table.iloc[0:0], [1]) == [] and tier_band_reasons(table, []) == []
    with pytest.raises(ValueError, match="one project"):
        tier_band_reasons(pd.DataFrame([_band(1, 78.0, 82.0), _band(1, 78.0, 82.0, project_id=2)]), [1])


def test_reasons_agree_with_the_monte_carlo_flag():
    mc = monte_carlo_weight_ranks(by_section(CLOSE_FIELD), ONE_PER_SECTION)
    flagged = sorted(mc.loc[mc["tier_uncertain"], "brand_id"].tolist())
    assert flagged == [2, 3, 4]
    reasons = tier_band_reasons(mc, mc["brand_id"].tolist())
    assert [r["threshold"] for r in reasons] == [[60.0]] * 3
    assert [int(r["message"].split()[1]) for r in reasons] == flagged
