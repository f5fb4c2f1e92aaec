"""Outcome rules on `business_outcomes`: V5 (valid ranges; failing cells nulled and quarantined),
C2 (required outcomes present where values exist), K5 (market shares sum <= 100.5), K3 outcomes part."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, OUTCOME_RANGES
from dc_pipeline_tests.domain.quality.per_project_oracle.context import as_datetime
from dc_pipeline_tests.domain.quality.per_project_oracle.tally import RuleRows, default_describe, no_units, tally_units

REQUIRED_OUTCOMES: tuple[str, ...] = ("revenue", "market_share", "customer_acquisition_cost", "bestseller_rank")
MARKET_SHARE_LIMIT = 100.5
OUTCOME_RELATIVE_TOLERANCE = 0.005


@dataclass(frozen=True)
class OutcomeVerdicts:
    validated: pd.DataFrame  # outcome rows, numeric columns coerced, V5-failing cells nulled
    failed_rows: pd.DataFrame  # positions of rows with >= 1 failing cell: pos, reason
    results: list[RuleRows]


def _in_range(values: np.ndarray, column: str) -> np.ndarray:
    low, low_inclusive, high = OUTCOME_RANGES[column]
    ok = np.isfinite(values) & ((values >= low) if low_inclusive else (values > low))
    if high is not None:
        ok &= values <= high
    return ok


def _range_text(column: str) -> str:
    low, low_inclusive, high = OUTCOME_RANGES[column]
    if high is None:
        return f"{'>=' if low_inclusive else '>'} {low:g}"
    return f"in [{low:g}, {high:g}]"


def assess_outcomes(landed: pd.DataFrame) -> OutcomeVerdicts:
    out = landed.copy().reset_index(drop=True)
    out["brand_id"] = pd.to_numeric(out["brand_id"], errors="coerce") if "brand_id" in out else np.nan
    out["period"] = as_datetime(out["period"]) if "period" in out else pd.NaT
    brand = out["brand_id"].to_numpy(dtype="float64")
    unit_brands, unit_passed = [], []
    reasons = pd.Series("", index=out.index, dtype=object)
    for column in OUTCOME_COLUMNS:
        if column not in out:
            out[column] = np.nan
            continue
        raw = out[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        present = raw.notna().to_numpy(dtype=bool)
        ok = _in_range(values, column)
        unit_brands.append(brand[present])
        unit_passed.append(ok[present])
        bad = present & ~ok
        if bad.any():
            shown = raw.astype(str).to_numpy(dtype=object)
            reasons[bad] = reasons[bad] + f"{column} " + shown[bad] + f" not {_range_text(column)}; "
        out[column] = np.where(ok, values, np.nan)
    failing = reasons != ""
    failed_rows = pd.DataFrame(
        {
            "pos": np.flatnonzero(failing.to_numpy()),
            "reason": ("outcome_out_of_range: " + reasons[failing].str.removesuffix("; ")).to_numpy(dtype=object),
        }
    )
    v5 = tally_units(
        "V5",
        np.concatenate(unit_brands) if unit_brands else np.array([]),
        np.concatenate(unit_passed) if unit_passed else np.array([], bool),
        default_describe("V5", "outside their valid range (nulled and quarantined)"),
        "no outcome cells landed",
    )
    return OutcomeVerdicts(out, failed_rows, [v5])


def rule_c2(valid_values: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[RuleRows, pd.DataFrame]:
    """Required outcome cells for brand-periods with values, plus availability of every outcome."""
    brand_periods = valid_values[["brand_id", "period"]].drop_duplicates()
    rows = outcomes.dropna(subset=["brand_id", "period"]).drop_duplicates(["brand_id", "period"])
    joined = brand_periods.astype({"brand_id": "float64"}).merge(
        rows.astype({"brand_id": "float64"}), on=["brand_id", "period"], how="left"
    )
    n = len(joined)
    availability = pd.DataFrame(
        {
            "column": list(OUTCOME_COLUMNS),
            "required": [c in REQUIRED_OUTCOMES for c in OUTCOME_COLUMNS],
            "brand_periods": n,
            "available": [int(joined[c].notna().sum()) for c in OUTCOME_COLUMNS],
        }
    )
    if n == 0:
        return no_units("C2", "no brand-periods with valid values"), availability
    passed = np.concatenate([joined[c].notna().to_numpy(dtype=bool) for c in REQUIRED_OUTCOMES])
    brands = np.tile(joined["brand_id"].to_numpy(dtype="float64"), len(REQUIRED_OUTCOMES))
    others = "; ".join(
        f"{r.column} {r.available}/{r.brand_periods}" for r in availability.itertuples() if not r.required
    )
    describe = lambda f, u: (
        f"{f} of {u} required outcome cells (revenue, market_share, customer_acquisition_cost, "
        f"bestseller_rank) are null for brand-periods with values; availability of other "
        f"outcomes (project): {others}"
    )
    return tally_units("C2", brands, passed, describe, "no brand-periods with valid values"), availability


def rule_k5(outcomes: pd.DataFrame) -> RuleRows:
    shares = outcomes.dropna(subset=["market_share", "period"])
    if shares.empty:
        return no_units("K5", "no market_share values")
    totals = shares.groupby("period")["market_share"].sum()
    worst = totals.max()
    return tally_units(
        "K5",
        None,
        (totals <= MARKET_SHARE_LIMIT).to_numpy(dtype=bool),
        lambda f, u: (
            f"{f} of {u} project-periods have market shares summing above {MARKET_SHARE_LIMIT:g} (highest {worst:.2f})"
        ),
        "no market_share values",
    )


def k3_outcome_units(outcomes: pd.DataFrame, api_outcomes: pd.DataFrame) -> pd.DataFrame:
    """Outcome cells non-null in both; passed when they agree within 0.5 %."""
    api = api_outcomes.copy()
    api["brand_id"] = pd.to_numeric(api["brand_id"], errors="coerce").astype("float64")
    api["period"] = as_datetime(api["period"]).to_numpy()
    api = api.drop_duplicates(["brand_id", "period"])
    mine = outcomes.dropna(subset=["brand_id", "period"]).astype({"brand_id": "float64"})
    both = mine.merge(api, on=["brand_id", "period"], suffixes=("", "_api"))
    brands, passed = [], []
    for column in OUTCOME_COLUMNS:
        if f"{column}_api" not in both:
            continue
        pg = both[column].to_numpy(dtype="float64")
        remote = pd.to_numeric(both[f"{column}_api"], errors="coerce").to_numpy(dtype="float64")
        present = ~np.isnan(pg) & pd.notna(both[f"{column}_api"]).to_numpy()
        scale = np.maximum(np.abs(pg), np.abs(remote))
        ok = np.abs(pg - remote) <= OUTCOME_RELATIVE_TOLERANCE * scale + 1e-9
        brands.append(both["brand_id"].to_numpy(dtype="float64")[present])
        passed.append(ok[present])
    return pd.DataFrame(
        {
            "brand_id": np.concatenate(brands) if brands else np.array([]),
            "passed": np.concatenate(passed) if passed else np.array([], bool),
        }
    )
