"""WARN rules on value rows: completeness C1, timeliness T1, volume W2, K2 (period-on-period jumps)
and K3 (API agreement, values part) judge the validated (clean) rows; K1 (section label) judges every
landed row of a defined metric, since a label is wrong whether or not the row is otherwise valid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import SECTIONS
from dc_pipeline_tests.domain.quality.per_project_oracle.context import ProjectContext, as_datetime, shift_periods
from dc_pipeline_tests.domain.quality.per_project_oracle.tally import (
    RuleRows,
    default_describe,
    no_units,
    tally_counts,
    tally_units,
)


def _per_member(ctx: ProjectContext, brand_ids: np.ndarray) -> np.ndarray:
    """Count of rows per member brand, in the order of ctx.members."""
    counts = pd.Series(brand_ids).value_counts()
    return counts.reindex(ctx.members.astype("float64"), fill_value=0).to_numpy(dtype="int64")


def rule_c1(valid: pd.DataFrame, ctx: ProjectContext, periods: pd.DatetimeIndex, n_metrics: int) -> RuleRows:
    if ctx.members.size == 0:
        return no_units("C1", "no expected cells: project has 0 member brands")
    if n_metrics == 0 or periods.size == 0:
        return no_units("C1", f"no expected cells: {n_metrics} usable active metrics x {periods.size} covered periods")
    in_window = valid["period"].isin(periods).to_numpy()
    present = _per_member(ctx, valid["brand_id"].to_numpy(dtype="float64")[in_window])
    expected = np.full(ctx.members.size, n_metrics * periods.size)
    return tally_counts(
        "C1",
        ctx.members,
        expected,
        present,
        default_describe("C1", "(active metric x member brand x covered period) have no valid value"),
        "no expected cells",
    )


def rule_t1(valid: pd.DataFrame, ctx: ProjectContext) -> RuleRows:
    if ctx.members.size == 0:
        return no_units("T1", "no member brands")
    lag = ctx.config.max_lag_periods if ctx.is_active else 0
    threshold = shift_periods(ctx.expected_last, ctx.grain_months, -lag)
    last = valid.groupby("brand_id")["period"].max().reindex(ctx.members.astype("float64"))
    passed = (last >= threshold).fillna(False).to_numpy(dtype=bool)
    basis = (
        f"expected last period {ctx.describe_period(ctx.expected_last)} minus {lag} allowed"
        if ctx.is_active
        else f"last covered period {ctx.describe_period(ctx.expected_last)}"
    )
    return tally_units(
        "T1",
        ctx.members,
        passed,
        default_describe("T1", f"end before {ctx.describe_period(threshold)} ({basis})"),
        "no member brands",
    )


def rule_w2(valid: pd.DataFrame, ctx: ProjectContext, periods: pd.DatetimeIndex) -> RuleRows:
    if ctx.members.size == 0 or periods.size == 0:
        return no_units("W2", f"no expected brand-periods: {ctx.members.size} members x {periods.size} periods")
    rows = valid.loc[valid["period"].isin(periods), ["brand_id", "period", "section_name"]]
    rows = rows[rows["section_name"].isin(SECTIONS)].drop_duplicates()
    n_sections = rows.groupby(["brand_id", "period"]).size()
    complete = n_sections[n_sections == len(SECTIONS)].reset_index()["brand_id"].to_numpy(dtype="float64")
    passed = _per_member(ctx, complete)
    units = np.full(ctx.members.size, periods.size)
    return tally_counts(
        "W2",
        ctx.members,
        units,
        passed,
        default_describe("W2", "lack a valid value in at least one of the four sections"),
        "no expected brand-periods",
    )


def rule_k1(landed: pd.DataFrame, metric_ids: np.ndarray, brand_ids: np.ndarray, section_names: pd.Series) -> RuleRows:
    """Landed rows of a metric defined for the project whose section label, when set, must equal
    the definition's section_name (a duplicated or out-of-range row still carries its label)."""
    if "section" not in landed:
        return no_units("K1", "no section labels landed")
    label = landed["section"]
    known = pd.Index(section_names.index.astype("float64")).get_indexer(metric_ids)
    units = (label.notna() & (label.astype(str).str.strip() != "")).to_numpy(dtype=bool) & (known >= 0)
    expected = section_names.to_numpy(dtype=object)[known[units]]
    passed = label[units].astype(str).str.strip().to_numpy(dtype=object) == expected
    return tally_units(
        "K1",
        brand_ids[units],
        passed,
        default_describe("K1", "carry a section label different from the metric definition"),
        "no rows of a defined metric carry a section label",
    )


def rule_k2(valid: pd.DataFrame, max_jump: float) -> RuleRows:
    """Change from the previous available period of the same (brand, metric)."""
    brand = valid["brand_id"].to_numpy(dtype="float64")
    metric = valid["metric_id"].to_numpy(dtype="float64")
    period = valid["period"].to_numpy(dtype="datetime64[ns]").astype("int64")
    value = valid["normalized_value"].to_numpy(dtype="float64")
    order = np.lexsort((period, metric, brand))
    brand, metric, value = brand[order], metric[order], value[order]
    same_series = (brand[1:] == brand[:-1]) & (metric[1:] == metric[:-1])
    jump = np.abs(value[1:] - value[:-1])[same_series]
    return tally_units(
        "K2",
        brand[1:][same_series],
        jump <= max_jump,
        default_describe("K2", f"exceed {max_jump:g} points"),
        "no series with two or more periods",
    )


def k3_value_units(valid: pd.DataFrame, api_values: pd.DataFrame) -> pd.DataFrame:
    """Keys present in both Postgres and the API; passed when they agree within 0.01."""
    api = pd.DataFrame(
        {
            "brand_id": pd.to_numeric(api_values["brand_id"], errors="coerce").astype("float64"),
            "metric_id": pd.to_numeric(api_values["metric_id"], errors="coerce").astype("float64"),
            "period": as_datetime(api_values["period"]).to_numpy(),
            "api_value": pd.to_numeric(api_values["normalized_value"], errors="coerce").astype("float64"),
        }
    ).drop_duplicates(["brand_id", "metric_id", "period"])
    both = (
        valid[["brand_id", "metric_id", "period", "normalized_value"]]
        .astype({"brand_id": "float64", "metric_id": "float64"})
        .merge(api, on=["brand_id", "metric_id", "period"])
    )
    passed = (np.abs(both["normalized_value"] - both["api_value"]) <= 0.01 + 1e-9).to_numpy(dtype=bool)
    return pd.DataFrame({"brand_id": both["brand_id"].to_numpy(), "passed": passed})
