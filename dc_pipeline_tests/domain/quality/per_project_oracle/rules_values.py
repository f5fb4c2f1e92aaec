"""Row rules on landed `normalisedvalue` rows that quarantine: V1, V2, V3, U1, plus the rows of
metrics that failed V4 / U2. Each rule gives a boolean failure mask over all rows and, for the
failing rows only, a reason string starting with a reason code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline_tests.domain.quality.per_project_oracle.context import ProjectContext, as_datetime
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_metrics import MetricVerdicts
from dc_pipeline_tests.domain.quality.per_project_oracle.tally import RuleRows, default_describe, tally_units

VALUE_KEY = ("brand_id", "metric_id", "period")


@dataclass(frozen=True)
class CoercedValues:
    """Typed views of the landed rows; a value that does not coerce becomes NaN / NaT."""

    project: np.ndarray
    brand: np.ndarray
    metric: np.ndarray
    period: pd.Series
    value: np.ndarray
    row_id: np.ndarray

    def __len__(self) -> int:
        return self.value.size


@dataclass
class RowFailures:
    mask: np.ndarray  # bool over all landed rows
    reasons: pd.Series  # reason strings indexed by the positions of failing rows


def _numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def coerce_values(landed: pd.DataFrame) -> CoercedValues:
    period = as_datetime(landed["period"]) if "period" in landed else pd.Series(pd.NaT, index=landed.index)
    return CoercedValues(
        project=_numeric(landed, "project_id"),
        brand=_numeric(landed, "brand_id"),
        metric=_numeric(landed, "metric_id"),
        period=period.reset_index(drop=True),
        value=_numeric(landed, "normalized_value"),
        row_id=_numeric(landed, "id"),
    )


def _id_text(values: np.ndarray) -> pd.Series:
    return pd.Series(
        [
            "null" if np.isnan(v) else (str(int(v)) if float(v).is_integer() else str(v))
            for v in np.asarray(values, dtype="float64")
        ],
        dtype=object,
    )


def _blank(n: int) -> pd.Series:
    return pd.Series([""] * n, dtype=object)


def _failures(mask: np.ndarray, codes: dict[str, tuple[np.ndarray, pd.Series]]) -> RowFailures:
    """codes: reason text -> (bool mask over failing rows, details over failing rows); first match wins."""
    positions = np.flatnonzero(mask)
    reasons = pd.Series(None, index=positions, dtype=object)
    for text, (selector, detail) in codes.items():
        take = selector & reasons.isna().to_numpy()
        reasons[take] = text + detail[take].to_numpy()
    return RowFailures(mask, reasons)


def rule_v1(landed: pd.DataFrame, cv: CoercedValues) -> RowFailures:
    value = cv.value
    mask = ~(np.isfinite(value) & (value >= 0) & (value <= 100))
    pos = np.flatnonzero(mask)
    raw = landed["normalized_value"].iloc[pos] if "normalized_value" in landed else pd.Series([None] * pos.size)
    raw_null = raw.isna().to_numpy()
    sub = value[pos]
    # A float column holding NaN that is not null carries a stored NaN (Postgres 'NaN'), not bad text.
    stored_nan = np.isnan(sub) & ~raw_null & pd.api.types.is_float_dtype(raw.dtype)
    shown = pd.Series(sub.astype(str), dtype=object)  # numpy spells nan and inf (pandas' str dtype drops NaN)
    raw_text = raw.astype(str).reset_index(drop=True)
    return _failures(
        mask,
        {
            "value_missing: normalized_value is null": (raw_null, _blank(pos.size)),
            "value_not_finite: normalized_value ": (np.isinf(sub) | stored_nan, shown.replace("nan", "NaN")),
            "value_not_numeric: normalized_value ": (np.isnan(sub) & ~raw_null, "'" + raw_text + "' is not a number"),
            "value_out_of_range: normalized_value ": (np.ones(pos.size, bool), shown + " outside [0, 100]"),
        },
    )


def rule_v2(
    cv: CoercedValues, ctx: ProjectContext, verdicts: MetricVerdicts, metric_owners: Mapping[int, int] | None
) -> RowFailures:
    """`metric_owners` (metric_id -> project_id of every metric in public.metrics) names the project a
    foreign metric belongs to; without it such a metric reads as unknown."""
    table = verdicts.table
    where = pd.Index(table["metric_id"].astype("float64")).get_indexer(cv.metric)
    in_project = where >= 0
    active = np.zeros(len(cv), bool)
    active[in_project] = table["active"].to_numpy()[where[in_project]]
    wrong_project = np.zeros(len(cv), bool)
    if ctx.project_id is not None:
        wrong_project = ~np.isnan(cv.project) & (cv.project != ctx.project_id)
    mask = ~in_project | ~active | wrong_project
    pos = np.flatnonzero(mask)
    metric = cv.metric[pos]
    metric_text = _id_text(metric)
    owners = {float(k): float(v) for k, v in (metric_owners or {}).items() if pd.notna(k) and pd.notna(v)}
    owner = pd.Series(metric).map(owners)
    owner = owner.to_numpy(dtype="float64", na_value=np.nan)
    elsewhere = ~np.isnan(owner)
    owner_text = _id_text(owner)
    proj = f" {ctx.project_id}" if ctx.project_id is not None else ""
    return _failures(
        mask,
        {
            "project_mismatch: row project_id ": (
                wrong_project[pos],
                _id_text(cv.project[pos]) + f" differs from the assessed project{proj}",
            ),
            "unknown_metric: metric_id is null": (np.isnan(metric), _blank(pos.size)),
            "metric_of_other_project: metric_id ": (
                ~in_project[pos] & elsewhere,
                metric_text + " belongs to project " + owner_text + f", not to project{proj}",
            ),
            "unknown_metric: metric_id ": (~in_project[pos], metric_text + " does not exist"),
            "inactive_metric: metric_id ": (np.ones(pos.size, bool), metric_text + " is not active"),
        },
    )


def rule_v3(cv: CoercedValues, ctx: ProjectContext) -> RowFailures:
    period = cv.period
    non_member = ~np.isin(cv.brand, ctx.members.astype("float64"))
    is_null = period.isna().to_numpy()
    aligned = (
        ((period.dt.day == 1) & (period == period.dt.normalize()) & ((period.dt.month - 1) % ctx.grain_months == 0))
        .fillna(False)
        .to_numpy(dtype=bool)
    )
    inside = (period <= ctx.end).fillna(False).to_numpy(dtype=bool)
    if ctx.start is not None:
        inside = inside & (period >= ctx.start).fillna(False).to_numpy(dtype=bool)
    mask = non_member | is_null | ~aligned | ~inside
    pos = np.flatnonzero(mask)
    shown = period.iloc[pos].dt.strftime("%Y-%m-%d").fillna("null").reset_index(drop=True)
    window = f"[{ctx.describe_period(ctx.start)}, {ctx.describe_period(ctx.end)}]"
    proj = f" {ctx.project_id}" if ctx.project_id is not None else ""
    return _failures(
        mask,
        {
            "non_member_brand: brand_id ": (
                non_member[pos],
                _id_text(cv.brand[pos]) + f" is not a member of project{proj}",
            ),
            "period_invalid: period is null or not a date": (is_null[pos], _blank(pos.size)),
            "period_not_period_start: ": (~aligned[pos], shown + f" is not a {ctx.grain} start"),
            "period_outside_project: ": (np.ones(pos.size, bool), shown + f" outside {window}"),
        },
    )


def rule_metric_rows(cv: CoercedValues, verdicts: MetricVerdicts, column: str, code: str) -> RowFailures:
    """Rows of metrics excluded by a metric-level rule (V4 or U2) are quarantined under that rule."""
    table = verdicts.table
    where = pd.Index(table["metric_id"].astype("float64")).get_indexer(cv.metric)
    reasons_by_metric = table[column].to_numpy(dtype=object)
    mask = np.zeros(len(cv), bool)
    known = where >= 0
    mask[known] = pd.notna(reasons_by_metric[where[known]])
    pos = np.flatnonzero(mask)
    detail = pd.Series(reasons_by_metric[where[pos]]).astype(str)
    prefix = f"{code}: metric_id "
    return _failures(mask, {prefix: (np.ones(pos.size, bool), _id_text(cv.metric[pos]) + ": " + detail)})


def _value_identity(landed: pd.DataFrame, cv: CoercedValues, pos: np.ndarray) -> pd.Series:
    """What 'identical rows' compares: the numeric value, or the raw text when it is not a number."""
    numeric = pd.Series(cv.value[pos]).map(repr)
    if "normalized_value" in landed:
        raw = landed["normalized_value"].iloc[pos].astype(str).reset_index(drop=True)
        numeric = numeric.where(~np.isnan(cv.value[pos]), "raw:" + raw)
    return numeric


def rule_u1(landed: pd.DataFrame, cv: CoercedValues) -> tuple[RowFailures, pd.DataFrame]:
    keys = pd.DataFrame({"brand": cv.brand, "metric": cv.metric, "period": cv.period})
    in_dup = keys.duplicated(keep=False).to_numpy()
    first = ~keys.duplicated(keep="first").to_numpy()
    key_units = pd.DataFrame({"brand_id": cv.brand[first], "passed": ~in_dup[first]})

    pos = np.flatnonzero(in_dup)
    mask = np.zeros(len(cv), bool)
    reasons = pd.Series(None, index=pos, dtype=object)
    if pos.size:
        dup = keys.iloc[pos].reset_index(drop=True)
        dup["pos"] = pos
        dup["identity"] = _value_identity(landed, cv, pos).to_numpy()
        dup["row_id"] = cv.row_id[pos]
        group = dup.groupby(["brand", "metric", "period"], dropna=False, sort=False)
        dup["n_rows"] = group["pos"].transform("size")
        dup["n_values"] = group["identity"].transform("nunique")
        dup = dup.sort_values(["brand", "metric", "period", "row_id", "pos"], na_position="last")
        kept = ~dup.duplicated(["brand", "metric", "period"], keep="first")
        kept_id = (
            dup["row_id"]
            .where(kept)
            .groupby([dup["brand"], dup["metric"], dup["period"]], dropna=False, sort=False)
            .transform("first")
        )
        exact = dup["n_values"] == 1
        quarantined = ~exact | ~kept
        dup = dup[quarantined]
        mask[dup["pos"].to_numpy()] = True
        n_rows = dup["n_rows"].astype(str)
        text = np.where(
            exact[quarantined],
            "duplicate_exact: kept id "
            + _id_text(kept_id[quarantined].to_numpy()).to_numpy()
            + " of "
            + n_rows.to_numpy()
            + " identical rows",
            "duplicate_conflict: "
            + n_rows.to_numpy()
            + " rows with "
            + dup["n_values"].astype(str).to_numpy()
            + " different values for the key",
        )
        reasons = pd.Series(text, index=dup["pos"].to_numpy(), dtype=object).sort_index()
    return RowFailures(mask, reasons), key_units


def row_rule_results(
    cv: CoercedValues, failures: dict[str, RowFailures], u1_keys: pd.DataFrame, grain: str
) -> list[RuleRows]:
    """rule_results for V1, V2, V3 (row units) and U1 (key units), split by the row's brand."""
    what = {
        "V1": "have normalized_value not finite or outside [0, 100]",
        "V2": "reference a metric_id that is unknown, inactive or of another project",
        "V3": f"have a non-member brand or a period that is not a {grain} start inside the project's dates",
    }
    results = [
        tally_units(rule, cv.brand, ~failures[rule].mask, default_describe(rule, text), "no rows landed")
        for rule, text in what.items()
    ]
    results.append(
        tally_units(
            "U1",
            u1_keys["brand_id"].to_numpy(),
            u1_keys["passed"].to_numpy(),
            default_describe("U1", "(brand, metric, period) have more than one row"),
            "no rows landed",
        )
    )
    return results
