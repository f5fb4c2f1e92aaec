"""Outcome rules on `business_outcomes`: V5 (valid ranges; failing cells nulled and quarantined),
C2 (required outcomes present where values exist), K5 (market shares sum <= 100.5), K3 outcomes part.
Outcome rows carry `p`, their project's position in the run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.context import as_datetime
from dc_pipeline.domain.quality.tally import RuleRows, UnitGroups, counted, no_units, tally_units
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, OUTCOME_RANGES

REQUIRED_OUTCOMES: tuple[str, ...] = ("revenue", "market_share", "customer_acquisition_cost", "bestseller_rank")
MARKET_SHARE_LIMIT = 100.5
OUTCOME_RELATIVE_TOLERANCE = 0.005


@dataclass(frozen=True)
class OutcomeVerdicts:
    validated: pd.DataFrame  # outcome rows, numeric columns coerced, V5-failing cells nulled
    p: np.ndarray  # project position of each row
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


def assess_outcomes(landed: pd.DataFrame, p: np.ndarray, n: int) -> OutcomeVerdicts:
    out = landed.copy().reset_index(drop=True)
    out["brand_id"] = pd.to_numeric(out["brand_id"], errors="coerce") if "brand_id" in out else np.nan
    out["period"] = as_datetime(out["period"]) if "period" in out else pd.NaT
    brand = out["brand_id"].to_numpy(dtype="float64")
    # V5 units are the present cells: counted per row, then per (project, brand) of the rows.
    n_cells, n_passed = np.zeros(len(out), "int64"), np.zeros(len(out), "int64")
    reasons = pd.Series("", index=out.index, dtype=object)
    for column in OUTCOME_COLUMNS:
        if column not in out:
            out[column] = np.nan
            continue
        raw = out[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        present = raw.notna().to_numpy(dtype=bool)
        ok = _in_range(values, column)
        n_cells += present
        n_passed += present & ok
        bad = present & ~ok
        if bad.any():
            shown = raw[bad].astype(str).to_numpy(dtype=object)
            reasons[bad] = reasons[bad] + f"{column} " + shown + f" not {_range_text(column)}; "
        out[column] = np.where(ok, values, np.nan)
    failing = reasons != ""
    failed_rows = pd.DataFrame(
        {
            "pos": np.flatnonzero(failing.to_numpy()),
            "reason": ("outcome_out_of_range: " + reasons[failing].str.removesuffix("; ")).to_numpy(dtype=object),
        }
    )
    v5 = UnitGroups.of(p, brand).tally_counts(
        "V5",
        n_cells,
        n_passed,
        n,
        "outside their valid range (nulled and quarantined)",
        "no outcome cells landed",
    )
    return OutcomeVerdicts(out, p, failed_rows, [v5])


def _keyed(outcomes: OutcomeVerdicts) -> pd.DataFrame:
    """Validated outcome rows with brand and period, and their project position."""
    frame = outcomes.validated.assign(_p=outcomes.p)
    return frame.dropna(subset=["brand_id", "period"]).astype({"brand_id": "float64"})


def rule_c2(brand_periods: pd.DataFrame, outcomes: OutcomeVerdicts, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Required outcome cells for brand-periods with values (brand_periods: _p, brand_id, period),
    plus availability of every outcome per project (_p, column, required, brand_periods, available)."""
    rows = _keyed(outcomes).drop_duplicates(["_p", "brand_id", "period"])
    joined = brand_periods.merge(rows, on=["_p", "brand_id", "period"], how="left")
    p = joined["_p"].to_numpy(dtype="int64")
    n_bp = np.bincount(p, minlength=n)
    available = {
        c: np.bincount(p, weights=joined[c].notna().to_numpy(), minlength=n).astype("int64") for c in OUTCOME_COLUMNS
    }
    availability = pd.DataFrame(
        {
            "_p": np.repeat(np.arange(n), len(OUTCOME_COLUMNS)),
            "column": np.tile(np.array(OUTCOME_COLUMNS, dtype=object), n),
            "required": np.tile([c in REQUIRED_OUTCOMES for c in OUTCOME_COLUMNS], n),
            "brand_periods": np.repeat(n_bp, len(OUTCOME_COLUMNS)),
            "available": np.stack([available[c] for c in OUTCOME_COLUMNS], axis=1).reshape(-1),
        }
    )
    passed = np.concatenate([joined[c].notna().to_numpy(dtype=bool) for c in REQUIRED_OUTCOMES])
    brands = np.tile(joined["brand_id"].to_numpy(dtype="float64"), len(REQUIRED_OUTCOMES))
    others = [
        "; ".join(f"{c} {available[c][i]}/{n_bp[i]}" for c in OUTCOME_COLUMNS if c not in REQUIRED_OUTCOMES)
        for i in range(n)
    ]
    what = [
        "(revenue, market_share, customer_acquisition_cost, bestseller_rank) are null for brand-periods with "
        f"values; availability of other outcomes (project): {o}"
        for o in others
    ]
    empty = "no brand-periods with valid values"
    return tally_units("C2", np.tile(p, len(REQUIRED_OUTCOMES)), brands, passed, n, what, empty), availability


def rule_k5(outcomes: OutcomeVerdicts, n: int) -> RuleRows:
    shares = outcomes.validated.assign(_p=outcomes.p).dropna(subset=["market_share", "period"])
    if shares.empty:
        return no_units("K5", np.arange(n), "no market_share values")
    totals = shares.groupby(["_p", "period"])["market_share"].sum()
    p = totals.index.get_level_values("_p").to_numpy()
    ok = (totals <= MARKET_SHARE_LIMIT).to_numpy(dtype=bool)
    worst = totals.groupby(level="_p").max().reindex(range(n))
    units, passed = np.bincount(p, minlength=n), np.bincount(p, weights=ok, minlength=n).astype("int64")
    what = [
        f"have market shares summing above {MARKET_SHARE_LIMIT:g} (highest {w + 0.0:.2f})" if not np.isnan(w) else ""
        for w in worst.to_numpy()  # + 0.0: a sum of -0.0 shares reads 0.00
    ]
    return counted("K5", np.arange(n), np.full(n, np.nan), units, passed, n, what, "no market_share values")


def k3_outcome_units(outcomes: OutcomeVerdicts, api_outcomes: pd.DataFrame, api_p: np.ndarray) -> pd.DataFrame:
    """Outcome cells non-null in both; passed when they agree within 0.5 %."""
    api = api_outcomes.copy()
    api["_p"] = api_p
    api["brand_id"] = pd.to_numeric(api["brand_id"], errors="coerce").astype("float64")
    api["period"] = as_datetime(api["period"]).to_numpy()
    api = api.drop_duplicates(["_p", "brand_id", "period"])
    both = _keyed(outcomes).merge(api, on=["_p", "brand_id", "period"], suffixes=("", "_api"))
    p, brands, passed = [], [], []
    for column in OUTCOME_COLUMNS:
        if f"{column}_api" not in both:
            continue
        pg = both[column].to_numpy(dtype="float64")
        remote = pd.to_numeric(both[f"{column}_api"], errors="coerce").to_numpy(dtype="float64")
        present = ~np.isnan(pg) & pd.notna(both[f"{column}_api"]).to_numpy()
        scale = np.maximum(np.abs(pg), np.abs(remote))
        ok = np.abs(pg - remote) <= OUTCOME_RELATIVE_TOLERANCE * scale + 1e-9
        p.append(both["_p"].to_numpy(dtype="int64")[present])
        brands.append(both["brand_id"].to_numpy(dtype="float64")[present])
        passed.append(ok[present])
    return pd.DataFrame(
        {
            "p": np.concatenate(p) if p else np.array([], "int64"),
            "brand_id": np.concatenate(brands) if brands else np.array([]),
            "passed": np.concatenate(passed) if passed else np.array([], bool),
        }
    )
