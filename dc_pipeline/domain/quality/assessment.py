"""What data quality hands back: the run's tables (every row tagged with `p`, its project's position
in the run) and, cut from them, one `QualityAssessment` per project."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.catalog import QUARANTINE_COLUMNS, RULE_ORDER
from dc_pipeline.domain.quality.keys import grouped_bounds


@dataclass(frozen=True)
class QualityAssessment:
    validated_values: pd.DataFrame  # landed columns, passing rows only, ids/period/value typed
    validated_outcomes: pd.DataFrame  # outcome rows with V5-failing cells nulled
    quarantine: pd.DataFrame  # source_table, rule_id, severity, reason, row_key, row_payload
    rule_results: pd.DataFrame  # rule_id, dimension, severity, brand_id, units, passed, failed, message
    dimension_scores: pd.DataFrame  # scope, brand_id, dimension, score, units
    dq_scores: pd.DataFrame  # scope, brand_id, score, band
    blocking: list[dict]  # check, passed, message, rows
    outcome_availability: pd.DataFrame = field(
        default_factory=pd.DataFrame
    )  # column, required, brand_periods, available
    usable_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)  # active metric definitions passing V4 and U2

    @property
    def is_blocked(self) -> bool:
        return not all(check["passed"] for check in self.blocking)

    @property
    def project_score(self) -> float:
        return float(self.dq_scores.loc[self.dq_scores["scope"] == "project", "score"].iloc[0])

    def rule_totals(self) -> pd.DataFrame:
        """Project totals per rule (rule_results summed over brands), in rule-table order."""
        totals = (
            self.rule_results.groupby(["rule_id", "dimension", "severity"], sort=False)[["units", "passed", "failed"]]
            .sum()
            .reset_index()
        )
        return totals.set_index("rule_id").reindex([r for r in RULE_ORDER if r in set(totals["rule_id"])]).reset_index()

    def quarantine_counts(self) -> pd.DataFrame:
        return (
            self.quarantine.groupby(["source_table", "rule_id"]).size().rename("rows").reset_index()
            if len(self.quarantine)
            else pd.DataFrame(columns=["source_table", "rule_id", "rows"])
        )


class _ByProject:
    """Row positions of each project in a frame tagged with p (kept in the frame's order)."""

    def __init__(self, p: np.ndarray, n: int):
        p = np.asarray(p, dtype="int64")
        # Rows usually come project by project already: then each project's rows are a slice, a view.
        bounds = grouped_bounds(p, n)
        self.grouped = bounds is not None
        self.order = None if self.grouped else np.argsort(p, kind="stable")
        self.bounds = bounds if self.grouped else np.searchsorted(p[self.order], np.arange(n + 1))

    def rows(self, i: int) -> slice | np.ndarray:
        if self.grouped:
            return slice(self.bounds[i], self.bounds[i + 1])
        return self.order[self.bounds[i] : self.bounds[i + 1]]


def _cut(frame: pd.DataFrame, rows) -> pd.DataFrame:
    """The rows of one project, numbered from 0."""
    return frame.iloc[rows].reset_index(drop=True)


@dataclass(frozen=True)
class RunAssessment:
    """Every table of a validation run; `p` in each names the project by its position in `project_ids`."""

    project_ids: list  # the assessed projects' ids (None for a project given without one)
    # Every landed value row, typed (landed columns shared, not copied), its p, and whether it passed:
    # the validated rows are the kept ones, copied only where a consumer asks for them.
    value_rows: pd.DataFrame
    value_p: np.ndarray
    value_kept: np.ndarray
    validated_outcomes: pd.DataFrame
    outcomes_p: np.ndarray
    quarantine: pd.DataFrame  # p, source_table, rule_id, severity, reason, row_key, row_payload
    rule_results: pd.DataFrame  # p, rule_id, ...
    dimension_scores: pd.DataFrame  # p, scope, brand_id, dimension, score, units
    dq_scores: pd.DataFrame  # p, scope, brand_id, score, band
    blocking: list[list[dict]]  # per project
    outcome_availability: pd.DataFrame  # _p, column, required, brand_periods, available
    usable_metrics: pd.DataFrame  # _p, metric columns
    # Every tagged frame has its p first.

    @cached_property
    def validated_values(self) -> pd.DataFrame:
        """Every project's validated rows in one frame (p from `validated_p`): a copy of the kept rows."""
        return _cut(self.value_rows, np.flatnonzero(self.value_kept))

    @property
    def validated_p(self) -> np.ndarray:
        return self.value_p[self.value_kept]

    def project(self, i: int) -> QualityAssessment:
        """The assessment of the i-th project, as if it had been assessed alone."""
        return self.by_project()[i][1]

    def by_project(self) -> list[tuple[object, QualityAssessment]]:
        n = len(self.project_ids)
        # Each tagged frame without its p column, taken off once (not once per project: per-project
        # pandas overhead is most of this step).
        tagged = {
            name: (frame.iloc[:, 1:], _ByProject(frame.iloc[:, 0].to_numpy(), n))
            for name, frame in (
                ("quarantine", self.quarantine),
                ("rules", self.rule_results),
                ("dims", self.dimension_scores),
                ("dq", self.dq_scores),
                ("availability", self.outcome_availability),
                ("usable", self.usable_metrics),
            )
        }
        values, outcomes = _ByProject(self.value_p, n), _ByProject(self.outcomes_p, n)
        no_quarantine = pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})

        def cut(name: str, i: int) -> pd.DataFrame:
            frame, groups = tagged[name]
            return _cut(frame, groups.rows(i))

        out = []
        for i, project_id in enumerate(self.project_ids):
            quarantine = cut("quarantine", i)
            if quarantine.empty:
                quarantine = no_quarantine.copy(deep=False)  # its own frame: a column added to it stays there
            assessment = QualityAssessment(
                validated_values=self._validated(values.rows(i)),
                validated_outcomes=_cut(self.validated_outcomes, outcomes.rows(i)),
                quarantine=quarantine,
                rule_results=cut("rules", i),
                dimension_scores=cut("dims", i),
                dq_scores=cut("dq", i),
                blocking=self.blocking[i],
                outcome_availability=cut("availability", i),
                usable_metrics=cut("usable", i),
            )
            out.append((project_id, assessment))
        return out

    def _validated(self, rows: slice | np.ndarray) -> pd.DataFrame:
        """The kept rows among one project's landed rows: a view of them when none was quarantined."""
        kept = self.value_kept[rows]
        if not kept.all():
            rows = (np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows)[kept]
        return _cut(self.value_rows, rows)
