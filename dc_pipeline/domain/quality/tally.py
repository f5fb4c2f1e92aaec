"""Turn per-unit pass/fail verdicts into `rule_results` rows, one per (project, rule, brand).

brand is NaN for project-level units (metric definitions, volume, weights), so a project total is
the sum over all rows of a rule and a brand total is that brand's row only. A project with no unit
for a rule gets one row with zero units (it weighs nothing) whose message says why.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.catalog import RULE_ORDER, RULE_RESULT_COLUMNS, RULES
from dc_pipeline.domain.quality.keys import DENSE_LIMIT, Groups, factorized

_RULE_NUMBER = {rule_id: i for i, rule_id in enumerate(RULE_ORDER)}


@dataclass(frozen=True)
class RuleRows:
    """Run-level rule rows as columns (a DataFrame per rule cost more than the rule): p, rule (its
    number in RULE_ORDER), brand (float, NaN = project level), units, passed, message."""

    p: np.ndarray
    rule: np.ndarray
    brand: np.ndarray
    units: np.ndarray
    passed: np.ndarray
    message: np.ndarray  # object

    def __len__(self) -> int:
        return self.p.size

    def where(self, mask: np.ndarray) -> RuleRows:
        return RuleRows(*(getattr(self, f.name)[mask] for f in fields(self)))

    @classmethod
    def concat(cls, parts: list[RuleRows]) -> RuleRows:
        return cls(*(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(cls)))


def per_project(text, n_projects: int) -> np.ndarray:
    """A message part for every project: one text for all, or one per project already."""
    if isinstance(text, str):
        return np.full(n_projects, text, dtype=object)
    return np.asarray(text, dtype=object)


def _rows(rule_id: str, p, brand, units, passed, message) -> RuleRows:
    p = np.asarray(p, dtype="int64")
    return RuleRows(
        p,
        np.full(p.size, _RULE_NUMBER[rule_id], dtype="int8"),
        np.broadcast_to(np.asarray(brand, dtype="float64"), p.shape),
        np.broadcast_to(np.asarray(units, dtype="int64"), p.shape),
        np.broadcast_to(np.asarray(passed, dtype="int64"), p.shape),
        np.broadcast_to(np.asarray(message, dtype=object), p.shape),
    )


def no_units(rule_id: str, projects, message) -> RuleRows:
    """Rows for projects where the rule could not be evaluated: zero units, and why."""
    projects = np.asarray(projects, dtype="int64")
    text = message if isinstance(message, str) else np.asarray(message, dtype=object)[projects]
    return _rows(rule_id, projects, np.nan, 0, 0, text)


def counted(rule_id: str, p, brand, units, passed, n_projects: int, what="", empty="", message=None) -> RuleRows:
    """Units already counted per (p, brand); rows without units are dropped and projects left with
    none get `empty`. Messages read '<failed> of <units> <unit> <what>' or, given, `message` per project."""
    p, units, passed = np.asarray(p, dtype="int64"), np.asarray(units, dtype="int64"), np.asarray(passed, "int64")
    brand = np.asarray(brand, dtype="float64")
    keep = units > 0
    p, brand, units, passed = p[keep], brand[keep], units[keep], passed[keep]
    if message is not None:
        text = per_project(message, n_projects)[p]
    else:
        unit, parts = RULES[rule_id].unit, per_project(what, n_projects)[p]
        text = [f"{u - k} of {u} {unit} {w}" for u, k, w in zip(units.tolist(), passed.tolist(), parts)]
    rows = _rows(rule_id, p, brand, units, passed, np.asarray(text, dtype=object))
    missing = np.setdiff1d(np.arange(n_projects), p)
    return RuleRows.concat([rows, no_units(rule_id, missing, per_project(empty, n_projects))])


class UnitGroups:
    """(p, brand) groups of a set of units, computed once and reused by every rule over the same units
    (V1, V2, V3 and K1 count landed rows; U1 and K2 subsets of them). Brands come as codes into their
    distinct values; non-finite brands share one project-level bucket, ordered after the brands."""

    def __init__(self, p: np.ndarray, brand_codes: np.ndarray, brand_values: np.ndarray):
        values = np.asarray(brand_values, dtype="float64")
        finite = np.isfinite(values)
        ordered = np.sort(values[finite])
        rank = np.searchsorted(ordered, values)
        rank[~finite] = ordered.size  # the NaN bucket, last in each project
        width = ordered.size + 1
        n_projects = int(np.max(p)) + 1 if np.size(p) else 0
        brand_of_rank = np.append(ordered, np.nan)
        if n_projects * width <= DENSE_LIMIT:  # one counter per (project, brand), numbered in int32
            rank = rank.astype("int32")
            self.codes = np.asarray(p, dtype="int32") * np.int32(width) + rank[brand_codes]
            cell = np.arange(n_projects * width)
        else:
            groups = Groups(np.asarray(p, dtype="int64") * width + rank[brand_codes])
            self.codes, cell = groups.codes, groups.keys
            order = np.argsort(cell, kind="stable")
            self.codes, cell = np.argsort(order)[self.codes], cell[order]
        self.p, self.brand = cell // width, brand_of_rank[cell % width]
        self._all_units = None

    @classmethod
    def of(cls, p: np.ndarray, brand: np.ndarray) -> UnitGroups:
        codes, values = factorized(np.asarray(brand, dtype="float64"))
        return cls(p, codes, values)

    def tally(self, rule_id: str, passed, n_projects: int, what="", empty="", select=None) -> RuleRows:
        """`passed` over the units, or over the units picked by `select` (a mask, or positions) in
        their order; one row per group with units."""
        passed = np.asarray(passed, dtype=bool)
        failing = np.zeros(self.codes.size, bool)
        if select is None:
            return self.tally_masks(rule_id, None, ~passed, n_projects, what, empty)
        select = np.asarray(select)
        if select.dtype == bool:
            failing[select] = ~passed
            return self.tally_masks(rule_id, select, failing, n_projects, what, empty)
        picked = np.zeros(self.codes.size, bool)
        picked[select] = True
        failing[select[~passed]] = True
        return self.tally_masks(rule_id, picked, failing, n_projects, what, empty)

    def tally_masks(self, rule_id: str, picked, failing, n_projects: int, what="", empty="") -> RuleRows:
        """Units given as masks over all units: `picked` (None: all) and `failing`. Counts come from
        the few units left out or failing, so no pass over all units is repeated per rule."""
        size = self.p.size
        if self._all_units is None:
            self._all_units = np.bincount(self.codes, minlength=size)
        units = (
            self._all_units if picked is None else self._all_units - np.bincount(self.codes[~picked], minlength=size)
        )
        failed = np.bincount(self.codes[failing], minlength=size)
        return counted(rule_id, self.p, self.brand, units, units - failed, n_projects, what, empty)

    def tally_counts(self, rule_id: str, units, passed, n_projects: int, what="", empty="") -> RuleRows:
        """Units counted per item already (`units` of them, `passed` of those passing), summed per group."""
        size = self.p.size
        total, ok = (np.bincount(self.codes, weights=w, minlength=size).astype("int64") for w in (units, passed))
        return counted(rule_id, self.p, self.brand, total, ok, n_projects, what, empty)


def tally_units(rule_id: str, p, brand, passed, n_projects: int, what="", empty="") -> RuleRows:
    """Units given one by one: project position, brand (None or NaN for project-level) and verdict."""
    p = np.asarray(p, dtype="int64")
    brand = np.full(p.size, np.nan) if brand is None else brand
    return UnitGroups.of(p, brand).tally(rule_id, passed, n_projects, what, empty)


def as_rule_results(parts: list[RuleRows]) -> pd.DataFrame:
    """All rule rows of the run in rule-table order, project by project, brand-less rows first."""
    rows = RuleRows.concat(parts)
    known = ~np.isnan(rows.brand)
    brand_id = np.where(known, np.trunc(np.nan_to_num(rows.brand)), 0).astype("int64")
    perm = np.lexsort((np.arange(len(rows)), brand_id, known, rows.rule, rows.p))
    rule, known, brand_id = rows.rule[perm], known[perm], brand_id[perm]
    units, passed = rows.units[perm], rows.passed[perm]
    return pd.DataFrame(
        {
            "p": rows.p[perm],
            "rule_id": _texts(RULE_ORDER, rule),
            "dimension": _texts([RULES[r].dimension for r in RULE_ORDER], rule),
            "severity": _texts([RULES[r].severity for r in RULE_ORDER], rule),
            "brand_id": pd.arrays.IntegerArray(brand_id, ~known),
            "units": units,
            "passed": passed,
            "failed": units - passed,
            "message": pd.array(rows.message[perm], dtype="str"),
        },
        columns=["p", *RULE_RESULT_COLUMNS],
    )


def _texts(names, codes: np.ndarray):
    """A text column from a few names and a code per row (the names converted once, not per row)."""
    return pd.array(list(names), dtype="str").take(codes.astype("int64"))
