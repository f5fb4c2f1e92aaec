"""Row rules on landed `normalisedvalue` rows that quarantine: V1, V2, V3, U1, plus the rows of
metrics that failed V4 / U2. Each rule gives a boolean failure mask over all rows of the run and,
for the failing rows only, a reason string starting with a reason code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.context import RunContext, as_datetime
from dc_pipeline.domain.quality.keys import Cells, codes_of, combine, factorized, narrow, offset_codes
from dc_pipeline.domain.quality.rules_metrics import MetricVerdicts
from dc_pipeline.domain.quality.tally import RuleRows, UnitGroups

VALUE_KEY = ("brand_id", "metric_id", "period")


@dataclass(frozen=True)
class CoercedValues:
    """Typed views of the landed rows; a value that does not coerce becomes NaN / NaT.
    `p` is the row's project position in the run."""

    p: np.ndarray
    project: np.ndarray | None  # None when rows were assigned to projects by this very column
    period: np.ndarray  # datetime64[ns]
    value: np.ndarray
    period_code: np.ndarray  # position of the row's period among `periods`
    periods: np.ndarray  # the distinct periods, ascending (NaT first)
    brand_code: np.ndarray  # position of the row's brand among `brands` (NaN is a value)
    brands: np.ndarray
    metric_code: np.ndarray  # position of the row's metric among `metrics`
    metrics: np.ndarray
    period_cells: Cells  # (p, period code) pairs: per-project period facts are worked out per cell

    def __len__(self) -> int:
        return self.value.size

    def brand_at(self, rows) -> np.ndarray:
        return self.brands[self.brand_code[rows]]

    def metric_at(self, rows) -> np.ndarray:
        return self.metrics[self.metric_code[rows]]


@dataclass
class RowFailures:
    mask: np.ndarray  # bool over all landed rows
    reasons: pd.Series  # reason strings indexed by the positions of failing rows


def _numeric(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), np.nan)
    column = frame[col]
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf":
        return column.to_numpy(dtype="float64")
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _coded_numeric(frame: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, distinct float64 values): a numeric column is coded as it stands (no per-row
    conversion); values equal as floats share one code, NaN (not numeric) is a value of its own."""
    if col not in frame:
        return np.zeros(len(frame), dtype="int64"), np.array([np.nan] if len(frame) else [])
    column = frame[col]
    raw = column.to_numpy() if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iuf" else None
    offset = offset_codes(raw, limit=len(frame) // 16 + 1024) if raw is not None else None
    if offset is not None:  # whole-number ids in a compact range: code = id - smallest id
        codes, low = offset
        return codes, np.arange(low, low + int(codes.max()) + 1, dtype="float64")
    codes, values = factorized(raw if raw is not None else _numeric(frame, col))
    values = values.astype("float64")
    merged, distinct = factorized(values)
    if distinct.size < values.size:  # ids beyond 2**53 that meet as floats
        codes, values = merged[codes], distinct
    return codes, values


def coerce_values(landed: pd.DataFrame, p: np.ndarray, n_projects: int, by_project_id: bool) -> CoercedValues:
    """`by_project_id`: the rows were assigned to projects by their project_id, so it cannot differ."""
    if "period" in landed:
        period = as_datetime(landed["period"]).to_numpy()
    else:
        period = np.full(len(landed), np.datetime64("NaT"), dtype="datetime64[ns]")
    period_code, periods = pd.factorize(period.view("int64"), sort=True, use_na_sentinel=False)
    brand_code, brands = _coded_numeric(landed, "brand_id")
    metric_code, metrics = _coded_numeric(landed, "metric_id")
    period_code = narrow(period_code)
    return CoercedValues(
        p=p,
        project=None if by_project_id else _numeric(landed, "project_id"),
        period=period,
        value=_numeric(landed, "normalized_value"),
        period_code=period_code,
        periods=np.asarray(periods, dtype="int64").view("datetime64[ns]"),
        brand_code=brand_code,
        brands=brands,
        metric_code=metric_code,
        metrics=metrics,
        period_cells=Cells(p, period_code, n_projects, len(periods)),
    )


def id_text(values: np.ndarray) -> pd.Series:
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
    mask = ~((value >= 0) & (value <= 100))  # NaN and +-inf compare false
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
    cv: CoercedValues, rc: RunContext, verdicts: MetricVerdicts, where: np.ndarray, metric_owners
) -> RowFailures:
    """`where`: each row's metric-table position (-1: the project defines no such metric);
    `metric_owners` (metric_id -> project_id of every metric in public.metrics) names the project a
    foreign metric belongs to; without it such a metric reads as unknown."""
    in_project = where >= 0
    usable_metric = np.append(verdicts.table["active"].to_numpy(dtype=bool), False)[where]  # -1: not defined
    if cv.project is None:
        wrong_project = np.zeros(len(cv), bool)
    else:
        project_id = rc.array("project_id", "float64")[cv.p]
        wrong_project = ~np.isnan(project_id) & ~np.isnan(cv.project) & (cv.project != project_id)
    mask = ~usable_metric | wrong_project
    pos = np.flatnonzero(mask)
    metric = cv.metric_at(pos)
    metric_text = id_text(metric)
    owners = {float(k): float(v) for k, v in (metric_owners or {}).items() if pd.notna(k) and pd.notna(v)}
    owner = pd.Series(metric).map(owners).to_numpy(dtype="float64", na_value=np.nan)
    elsewhere = ~np.isnan(owner)
    proj = pd.Series(rc.array("named")[cv.p[pos]], dtype=object)
    return _failures(
        mask,
        {
            "project_mismatch: row project_id ": (
                wrong_project[pos],
                id_text(cv.project[pos] if cv.project is not None else np.full(pos.size, np.nan))
                + " differs from the assessed project"
                + proj,
            ),
            "unknown_metric: metric_id is null": (np.isnan(metric), _blank(pos.size)),
            "metric_of_other_project: metric_id ": (
                ~in_project[pos] & elsewhere,
                metric_text + " belongs to project " + id_text(owner) + ", not to project" + proj,
            ),
            "unknown_metric: metric_id ": (~in_project[pos], metric_text + " does not exist"),
            "inactive_metric: metric_id ": (np.ones(pos.size, bool), metric_text + " is not active"),
        },
    )


def period_verdicts(cv: CoercedValues, rc: RunContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (project, period) cell: period null; a month (quarter) start at midnight; inside the
    project's [start, end]. Worked out once per cell, not per row."""
    cells = cv.period_cells
    stamp = cv.periods[cells.b]
    null = np.isnat(stamp)
    month = stamp.astype("datetime64[M]")
    month_of_year = month.astype("int64") % 12  # 0 = January; NaT gives garbage, masked below
    aligned = (month.astype("datetime64[ns]") == stamp) & (month_of_year % rc.grain_months[cells.a] == 0) & ~null
    start = rc.start[cells.a]
    inside = (stamp <= rc.end[cells.a]) & (np.isnat(start) | (stamp >= start))
    return null, aligned, inside


def rule_v3(cv: CoercedValues, rc: RunContext, member: np.ndarray) -> RowFailures:
    """`member`: each row's position among the run's (project, member brand) pairs, -1 if none."""
    null, aligned, inside = period_verdicts(cv, rc)
    cell = cv.period_cells.codes
    non_member = member < 0
    mask = non_member | ~(aligned & inside)[cell]
    pos = np.flatnonzero(mask)
    is_null, aligned = null[cell[pos]], aligned[cell[pos]]
    shown = pd.Series(cv.period[pos]).dt.strftime("%Y-%m-%d").fillna("null").astype(object)
    proj = pd.Series(rc.array("named")[cv.p[pos]], dtype=object)
    windows = np.array([f"[{_day(c.start)}, {_day(c.end)}]" for c in rc.projects], dtype=object)
    grains = pd.Series(rc.array("grain")[cv.p[pos]], dtype=object)
    return _failures(
        mask,
        {
            "non_member_brand: brand_id ": (
                non_member[pos],
                id_text(cv.brand_at(pos)) + " is not a member of project" + proj,
            ),
            "period_invalid: period is null or not a date": (is_null, _blank(pos.size)),
            "period_not_period_start: ": (~aligned, shown + " is not a " + grains + " start"),
            "period_outside_project: ": (np.ones(pos.size, bool), shown + " outside " + windows[cv.p[pos]]),
        },
    )


def _day(ts) -> str:
    return "none" if ts is None or pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def rule_metric_rows(
    cv: CoercedValues, verdicts: MetricVerdicts, where: np.ndarray, column: str, code: str
) -> RowFailures:
    """Rows of metrics excluded by a metric-level rule (V4 or U2) are quarantined under that rule."""
    reasons_by_metric = verdicts.table[column].to_numpy(dtype=object)
    # Per metric first, then one gather of booleans (no object gather over the rows); where -1: no metric.
    mask = np.append(pd.notna(reasons_by_metric), False)[where]
    pos = np.flatnonzero(mask)
    detail = pd.Series(reasons_by_metric[where[pos]]).astype(str)
    prefix = f"{code}: metric_id "
    return _failures(mask, {prefix: (np.ones(pos.size, bool), id_text(cv.metric_at(pos)) + ": " + detail)})


def _value_identity(landed: pd.DataFrame, cv: CoercedValues, pos: np.ndarray) -> pd.Series:
    """What 'identical rows' compares: the numeric value, or the raw text when it is not a number."""
    numeric = pd.Series(cv.value[pos]).map(repr)
    if "normalized_value" in landed:
        raw = landed["normalized_value"].iloc[pos].astype(str).reset_index(drop=True)
        numeric = numeric.where(~np.isnan(cv.value[pos]), "raw:" + raw)
    return numeric


@dataclass(frozen=True)
class KeyOrder:
    """Rows sorted by (project, brand, metric, period), periods ascending: equal keys are adjacent
    (U1), and so are a (brand, metric) series' periods in order (K2). The sorted combined keys are
    kept: a key divided by `n_periods` is its (project, brand, metric) series."""

    order: np.ndarray  # row positions in key order
    same_as_previous: np.ndarray  # over `order`: this row has the key of the row before it
    sorted_key: np.ndarray  # over `order`: the row's combined key (int64), ascending
    n_periods: int  # the period part's width in the combined key

    def kept(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept rows in key order, whether each has the key of the kept row before it, and
        whether each is in the series of the kept row before it."""
        selected = keep[self.order]
        ordered = self.order[selected]
        key = self.sorted_key[selected]
        same_key = _same_as_previous(key)
        key //= self.n_periods  # in place: the series part of each kept key
        return ordered, same_key, _same_as_previous(key)


def _same_as_previous(values: np.ndarray) -> np.ndarray:
    same = np.zeros(values.size, bool)
    np.equal(values[1:], values[:-1], out=same[1:])
    return same


def key_order(cv: CoercedValues, n_projects: int) -> KeyOrder:
    parts = [(cv.p, n_projects), (cv.brand_code, cv.brands.size), (cv.metric_code, cv.metrics.size)]
    if n_projects * cv.brands.size * cv.metrics.size * max(cv.periods.size, 1) >= 1 << 62:
        parts = [codes_of(combine(*parts))]  # keep the combined key inside int64
    key = combine(*parts, (cv.period_code, cv.periods.size))
    order = np.argsort(key, kind="stable")
    key = key[order]
    return KeyOrder(order, _same_as_previous(key), key, max(cv.periods.size, 1))


def rule_u1(landed: pd.DataFrame, cv: CoercedValues, keys: KeyOrder) -> tuple[RowFailures, np.ndarray, np.ndarray]:
    """(failures, which rows are their key's first, which of those rows have a key with several rows):
    the U1 units are keys, counted at their first row."""
    same = keys.same_as_previous
    in_dup_sorted = same.copy()
    in_dup_sorted[:-1] |= same[1:]
    in_dup = np.zeros(len(cv), bool)
    in_dup[keys.order] = in_dup_sorted
    first = np.zeros(len(cv), bool)
    first[keys.order] = ~same
    first_of_repeated = first & in_dup

    pos = np.flatnonzero(in_dup)
    mask = np.zeros(len(cv), bool)
    reasons = pd.Series(None, index=pos, dtype=object)
    if pos.size:
        dup = pd.DataFrame(
            {"p": cv.p[pos], "brand": cv.brand_at(pos), "metric": cv.metric_at(pos), "period": cv.period[pos]}
        )
        dup["pos"] = pos
        dup["identity"] = _value_identity(landed, cv, pos).to_numpy()
        dup["row_id"] = _numeric(landed.iloc[pos], "id")
        key = ["p", "brand", "metric", "period"]
        group = dup.groupby(key, dropna=False, sort=False)
        dup["n_rows"] = group["pos"].transform("size")
        dup["n_values"] = group["identity"].transform("nunique")
        dup = dup.sort_values([*key, "row_id", "pos"], na_position="last")
        kept = ~dup.duplicated(key, keep="first")
        kept_id = dup["row_id"].where(kept).groupby([dup[k] for k in key], dropna=False, sort=False).transform("first")
        exact = dup["n_values"] == 1
        quarantined = ~exact | ~kept
        dup = dup[quarantined]
        mask[dup["pos"].to_numpy()] = True
        n_rows = dup["n_rows"].astype(str)
        text = np.where(
            exact[quarantined],
            "duplicate_exact: kept id "
            + id_text(kept_id[quarantined].to_numpy()).to_numpy()
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
    return RowFailures(mask, reasons), first, first_of_repeated


def row_rule_results(
    rows: UnitGroups,
    failures: dict[str, RowFailures],
    u1_first: np.ndarray,
    u1_repeated: np.ndarray,
    rc: RunContext,
) -> list[RuleRows]:
    """rule_results for V1, V2, V3 (row units) and U1 (key units), split by the row's brand."""
    grains = rc.array("grain")
    what = {
        "V1": "have normalized_value not finite or outside [0, 100]",
        "V2": "reference a metric_id that is unknown, inactive or of another project",
        "V3": [
            f"have a non-member brand or a period that is not a {g} start inside the project's dates" for g in grains
        ],
    }
    n = len(rc)
    results = [rows.tally(rule, ~failures[rule].mask, n, text, "no rows landed") for rule, text in what.items()]
    u1_what = "(brand, metric, period) have more than one row"
    results.append(rows.tally_masks("U1", u1_first, u1_repeated, n, u1_what, "no rows landed"))
    return results
