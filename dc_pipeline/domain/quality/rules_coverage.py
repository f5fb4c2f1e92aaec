"""WARN rules on value rows: completeness C1, timeliness T1, volume W2, K2 (period-on-period jumps)
and K3 (API agreement, values part) judge the validated (clean) rows; K1 (section label) judges every
landed row of a defined metric, since a label is wrong whether or not the row is otherwise valid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.context import RunContext, as_datetime, describe_period, shift_periods
from dc_pipeline.domain.quality.keys import Cells, group_extreme, text_codes
from dc_pipeline.domain.quality.rules_values import CoercedValues
from dc_pipeline.domain.quality.tally import RuleRows, UnitGroups, counted, no_units
from dc_pipeline.domain.source_tables import SECTIONS


@dataclass(frozen=True)
class ValidRows:
    """The rows that passed every quarantine rule, with what the coverage rules group them by."""

    keep: np.ndarray  # over the landed rows: is the row valid
    p: np.ndarray
    member: np.ndarray  # position among the run's (project, member brand) pairs
    section: np.ndarray  # index of the metric's section in SECTIONS, -1 when it is none of them
    bp: np.ndarray  # code of the row's (member, period): its brand-period
    bp_member: np.ndarray  # per brand-period code
    bp_period: np.ndarray
    window_start: np.ndarray  # per project: first covered period (start_date, else the first valid period)
    n_periods: np.ndarray  # per project: covered periods that should hold data

    in_window: np.ndarray  # per row: is its period one the project should have data for


def valid_rows(cv: CoercedValues, keep: np.ndarray, member: np.ndarray, section: np.ndarray, rc: RunContext):
    p, member = cv.p[keep], member[keep]
    brand_periods = Cells(member, cv.period_code[keep], len(rc.members), cv.periods.size)
    bp = brand_periods.codes
    present = np.bincount(bp, minlength=len(brand_periods)) > 0
    bp_member, bp_period = brand_periods.a[present], cv.periods[brand_periods.b[present]]
    bp = (np.cumsum(present, dtype="int64") - 1).astype(bp.dtype)[bp]  # renumbered over those present
    earliest = group_extreme(rc.members.p[bp_member], bp_period, len(rc), latest=False)
    start = np.where(np.isnat(rc.start), earliest, rc.start)
    n_periods = np.array(
        [c.n_expected_periods(None if np.isnat(s) else pd.Timestamp(s)) for c, s in zip(rc.projects, start)],
        dtype="int64",
    )
    # Covered periods [window start, expected last], judged once per (project, period) cell.
    cells = cv.period_cells
    stamp = cv.periods[cells.b]
    window = (stamp >= start[cells.a]) & (stamp <= rc.expected_last[cells.a])
    in_window = window[cells.codes[keep]]
    return ValidRows(keep, p, member, section[keep], bp, bp_member, bp_period, start, n_periods, in_window)


def rule_c1(valid: ValidRows, rc: RunContext, n_metrics: np.ndarray) -> RuleRows:
    n_members = rc.n_members()
    present = np.bincount(valid.member[valid.in_window], minlength=len(rc.members))
    mp = rc.members.p
    expected = (n_metrics * valid.n_periods)[mp]
    empty = [
        "no expected cells: project has 0 member brands"
        if n_members[i] == 0
        else f"no expected cells: {n_metrics[i]} usable active metrics x {valid.n_periods[i]} covered periods"
        for i in range(len(rc))
    ]
    what = "(active metric x member brand x covered period) have no valid value"
    return counted("C1", mp, rc.members.key, expected, present, len(rc), what, empty)


def rule_t1(valid: ValidRows, rc: RunContext) -> RuleRows:
    lag = np.where(rc.active, rc.config.max_lag_periods, 0)
    thresholds = [shift_periods(c.expected_last, c.grain_months, -int(k)) for c, k in zip(rc.projects, lag)]
    last = group_extreme(valid.bp_member, valid.bp_period, len(rc.members), latest=True)
    mp = rc.members.p
    passed = last >= np.array(thresholds, dtype="datetime64[ns]")[mp]
    what = [
        f"end before {describe_period(t)} ("
        + (
            f"expected last period {describe_period(c.expected_last)} minus {k} allowed"
            if c.is_active
            else f"last covered period {describe_period(c.expected_last)}"
        )
        + ")"
        for c, t, k in zip(rc.projects, thresholds, lag)
    ]
    return counted("T1", mp, rc.members.key, np.ones(mp.size), passed, len(rc), what, "no member brands")


def rule_w2(valid: ValidRows, rc: RunContext) -> RuleRows:
    """A brand-period of the window passes with a valid value in each of the four sections."""
    take = valid.in_window & (valid.section >= 0)
    n_sections = len(SECTIONS)
    cell = valid.bp[take] * np.int32(n_sections) + valid.section[take]
    seen = np.bincount(cell, minlength=valid.bp_member.size * n_sections)
    complete = (seen.reshape(-1, n_sections) > 0).all(axis=1)
    passed = np.bincount(valid.bp_member[complete], minlength=len(rc.members))
    mp = rc.members.p
    n_members = rc.n_members()
    empty = [f"no expected brand-periods: {m} members x {t} periods" for m, t in zip(n_members, valid.n_periods)]
    what = "lack a valid value in at least one of the four sections"
    return counted("W2", mp, rc.members.key, valid.n_periods[mp], passed, len(rc), what, empty)


def rule_k1(landed: pd.DataFrame, rows: UnitGroups, where: np.ndarray, section_names: np.ndarray, n: int):
    """Landed rows of a metric defined for the project whose section label, when set, must equal
    the definition's section_name (a duplicated or out-of-range row still carries its label).
    `where`: each row's metric-table position (-1: not defined); `section_names` per table row."""
    if "section" not in landed:
        return no_units("K1", np.arange(n), "no section labels landed")
    # Labels repeat: strip and compare each distinct label once, against each distinct section name;
    # a row then looks its verdict up by one (label, name) cell code.
    labels, label_values = text_codes(landed["section"])  # label None: no label
    stripped = np.array(["" if v is None else str(v).strip() for v in label_values], dtype=object)
    names, name_values = pd.factorize(pd.Series(section_names, dtype=object), use_na_sentinel=False)
    width = len(name_values) + 1  # the last name code stands for 'metric not defined'
    equal = np.zeros((len(label_values), width), bool)
    equal[:, :-1] = stripped[:, None] == np.asarray(name_values, dtype=object)[None, :]
    judged = np.zeros((len(label_values), width), bool)  # a unit: a label with text, of a defined metric
    judged[:, :-1] = (stripped != "")[:, None]
    cell = labels * np.int32(width)
    cell += np.append(names, width - 1).astype("int32")[where]
    units = judged.ravel()[cell]
    failing = (judged & ~equal).ravel()[cell]
    return rows.tally_masks(
        "K1",
        units,
        failing,
        n,
        "carry a section label different from the metric definition",
        "no rows of a defined metric carry a section label",
    )


def rule_k2(cv: CoercedValues, keep: np.ndarray, ordered: np.ndarray, same: np.ndarray, rows: UnitGroups, max_jump, n):
    """Change from the previous available period of the same (brand, metric); `ordered`: the valid
    rows (`keep`) in key order, `same`: in the series of the one before. A unit is a valid row with
    an earlier valid row in its series."""
    same_series = same[1:]
    values = cv.value[ordered]
    jump = np.subtract(values[1:], values[:-1], out=values[:-1])  # in place: one row-sized array
    np.abs(jump, out=jump)
    too_far = ~(jump <= max_jump) & same_series
    picked = keep.copy()
    if ordered.size:
        picked[ordered[np.flatnonzero(np.r_[True, ~same_series])]] = False  # each series' first valid row
    failing = np.zeros(keep.size, bool)
    failing[ordered[1:][too_far]] = True
    what = f"exceed {max_jump:g} points"
    return rows.tally_masks("K2", picked, failing, n, what, "no series with two or more periods")


def k3_value_units(cv: CoercedValues, valid: ValidRows, api_values: pd.DataFrame, api_p: np.ndarray) -> pd.DataFrame:
    """Keys present in both Postgres and the API; passed when they agree within 0.01."""
    api = pd.DataFrame(
        {
            "p": api_p,
            "brand_id": pd.to_numeric(api_values["brand_id"], errors="coerce").to_numpy(dtype="float64"),
            "metric_id": pd.to_numeric(api_values["metric_id"], errors="coerce").to_numpy(dtype="float64"),
            "period": as_datetime(api_values["period"]).to_numpy(),
            "api_value": pd.to_numeric(api_values["normalized_value"], errors="coerce").to_numpy(dtype="float64"),
        }
    ).drop_duplicates(["p", "brand_id", "metric_id", "period"])
    r = valid.keep
    mine = pd.DataFrame(
        {
            "p": valid.p,
            "brand_id": cv.brand_at(r),
            "metric_id": cv.metric_at(r),
            "period": cv.period[r],
            "value": cv.value[r],
        }
    )
    both = mine.merge(api, on=["p", "brand_id", "metric_id", "period"])
    passed = (np.abs(both["value"] - both["api_value"]) <= 0.01 + 1e-9).to_numpy(dtype=bool)
    return pd.DataFrame({"p": both["p"].to_numpy(), "brand_id": both["brand_id"].to_numpy(), "passed": passed})
