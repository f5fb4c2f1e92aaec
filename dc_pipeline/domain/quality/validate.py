"""Run every SPEC §5 rule on the landed rows of all projects of a run in one pass, quarantine the
failures, and score the six DQ dimensions per project and per member brand.

`assess_run` assigns rows to projects by their project_id; `assess_project` assesses one project's
rows (each row counts for that project, whatever its project_id says). Both go through `_assess`,
where every row carries `p`, its project's position in the run, so no rule loops over projects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.assessment import QualityAssessment, RunAssessment
from dc_pipeline.domain.quality.blocking import blocking_checks, duplicated_rows
from dc_pipeline.domain.quality.catalog import VALUE_QUARANTINE_ORDER
from dc_pipeline.domain.quality.context import as_datetime, build_run_context
from dc_pipeline.domain.quality.keys import counts_by_p, narrow, offset_codes
from dc_pipeline.domain.quality.quarantine import metric_quarantine, outcome_quarantine, value_quarantine
from dc_pipeline.domain.quality.rules_coverage import (
    k3_value_units,
    rule_c1,
    rule_k1,
    rule_k2,
    rule_t1,
    rule_w2,
    valid_rows,
)
from dc_pipeline.domain.quality.rules_metrics import K4Inputs, assess_metrics
from dc_pipeline.domain.quality.rules_outcomes import assess_outcomes, k3_outcome_units, rule_c2, rule_k5
from dc_pipeline.domain.quality.rules_project import rule_t2, rule_w1
from dc_pipeline.domain.quality.rules_values import (
    coerce_values,
    key_order,
    row_rule_results,
    rule_metric_rows,
    rule_u1,
    rule_v1,
    rule_v2,
    rule_v3,
)
from dc_pipeline.domain.quality.scoring import dimension_scores, dq_scores
from dc_pipeline.domain.quality.tally import RuleRows, UnitGroups, as_rule_results, no_units, tally_units
from dc_pipeline.domain.settings import DqConfig
from dc_pipeline.domain.source_tables import SECTIONS

API_INPUTS = ("api_values", "api_weights", "api_outcomes")


@dataclass(frozen=True)
class Assigned:
    """A frame of the run and the project position `p` of each of its rows."""

    frame: pd.DataFrame
    p: np.ndarray

    @classmethod
    def to_one(cls, frame: pd.DataFrame) -> Assigned:
        return cls(frame, np.zeros(len(frame), dtype="int64"))


@dataclass(frozen=True)
class RunInputs:
    projects: list  # one mapping per project: project_id, period_grain, start_date, end_date, status
    metrics: Assigned  # each project's metric definitions
    members: Assigned  # project_brands rows
    values: Assigned  # landed normalisedvalue rows
    outcomes: Assigned  # landed business_outcomes rows
    metric_pool: pd.DataFrame | None  # definitions other projects are compared with (K4)
    pool_provided: np.ndarray  # per project: are there other projects' definitions
    api: dict[str, Assigned | None]  # API_INPUTS, rows of the projects that have them
    api_given: dict[str, np.ndarray]  # per project: was the API input given (even empty)
    previous_row_counts: list  # per project, None on a first run
    metric_owners: Mapping | None  # metric_id -> project_id over all of public.metrics (V2), or None
    by_project_id: bool  # value rows were assigned to projects by their project_id


def _assigned(frame: pd.DataFrame | None, index: pd.Index) -> Assigned | None:
    if frame is None:
        return None
    if "project_id" not in frame:
        return Assigned(frame.iloc[:0], np.array([], dtype="int64"))
    owner = pd.to_numeric(frame["project_id"], errors="coerce").to_numpy()
    ids = index.to_numpy()
    offset = offset_codes(owner, limit=len(frame) // 16 + 1024)
    if offset is not None and ids.size and ids.min() >= offset[1]:  # a lookup table over the id range
        table = np.full(max(int(offset[0].max()) + 1, int(ids.max()) - offset[1] + 1), -1, dtype="int32")
        table[ids - offset[1]] = np.arange(ids.size, dtype="int32")
        p = table[offset[0]]
    else:
        p = index.get_indexer(owner)
    keep = p >= 0
    if keep.all():
        return Assigned(frame, narrow(p))
    return Assigned(frame[keep], narrow(p[keep]))


def _owners(metrics: pd.DataFrame) -> dict:
    """metric_id -> project_id of every metric given."""
    ids = pd.to_numeric(metrics["metric_id"], errors="coerce")
    owners = pd.to_numeric(metrics["project_id"], errors="coerce")
    known = ids.notna() & owners.notna()
    return dict(zip(ids[known].astype("int64"), owners[known].astype("int64")))


def assess_run(
    projects: pd.DataFrame,
    metrics: pd.DataFrame,
    members: pd.DataFrame,
    landed_values: pd.DataFrame,
    landed_outcomes: pd.DataFrame,
    config: DqConfig,
    as_of: pd.Timestamp,
    previous_row_counts: Mapping[int, int] | None = None,
    api_inputs: Mapping[int, Mapping[str, pd.DataFrame | None]] | None = None,
    metric_owners: Mapping[int, int] | None = None,
) -> RunAssessment:
    """All SPEC §5 rules for every project in `projects` (one row each). `metrics` is the whole metrics
    table: a project's definitions are its rows, the others are what K4 compares metric types with,
    and every id is known to V2. Rows of other tables are assigned by their project_id; rows of
    projects not in `projects` are ignored. `api_inputs`: {project_id: {api_values, api_weights,
    api_outcomes}} as landed from the API (None where nothing landed). `metric_owners` (metric_id ->
    project_id over all of public.metrics) lets V2 name a foreign metric's project; by default it
    is read off `metrics`."""
    ids = pd.to_numeric(projects["project_id"], errors="coerce").astype("int64")
    index = pd.Index(ids.to_numpy())
    records = projects.to_dict("records")
    metric_owner = pd.to_numeric(metrics["project_id"], errors="coerce").to_numpy(dtype="float64")
    has_other = np.array([bool((metric_owner != pid).any()) for pid in index], dtype=bool)
    api_inputs = api_inputs or {}
    api, given = {}, {}
    for name in API_INPUTS:
        frames = [
            (i, api_inputs.get(pid, {}).get(name))
            for i, pid in enumerate(index)
            if api_inputs.get(pid, {}).get(name) is not None
        ]
        given[name] = np.isin(np.arange(len(index)), [i for i, _ in frames])
        parts = [Assigned(f, np.full(len(f), i, dtype="int64")) for i, f in frames]
        api[name] = (
            Assigned(pd.concat([a.frame for a in parts], ignore_index=True), np.concatenate([a.p for a in parts]))
            if parts
            else None
        )
    inputs = RunInputs(
        projects=records,
        metrics=_assigned(metrics, index),
        members=_assigned(members, index),
        values=_assigned(landed_values, index),
        outcomes=_assigned(landed_outcomes, index),
        metric_pool=metrics,
        pool_provided=has_other,
        api=api,
        api_given=given,
        previous_row_counts=[(previous_row_counts or {}).get(int(pid)) for pid in index],
        metric_owners=metric_owners if metric_owners is not None else _owners(metrics),
        by_project_id=True,
    )
    return _assess(inputs, config, as_of)


def assess_project(
    project,
    metrics: pd.DataFrame,
    members: pd.DataFrame,
    landed_values: pd.DataFrame,
    landed_outcomes: pd.DataFrame,
    config: DqConfig,
    as_of: pd.Timestamp,
    previous_row_count: int | None = None,
    api_values: pd.DataFrame | None = None,
    api_weights: pd.DataFrame | None = None,
    other_project_metrics: pd.DataFrame | None = None,
    metric_owners: Mapping[int, int] | None = None,
    api_outcomes: pd.DataFrame | None = None,
) -> QualityAssessment:
    """All SPEC §5 rules for one project. `api_outcomes` (brand_id, period, outcome columns) adds the
    outcome half of K3 when the caller has brand_data outcomes from the API. `metric_owners`
    (metric_id -> project_id over all of public.metrics) lets V2 name a foreign metric's project."""
    frames = {"api_values": api_values, "api_weights": api_weights, "api_outcomes": api_outcomes}
    inputs = RunInputs(
        projects=[dict(project)],
        metrics=Assigned.to_one(metrics),
        members=Assigned.to_one(members),
        values=Assigned.to_one(landed_values),
        outcomes=Assigned.to_one(landed_outcomes),
        metric_pool=other_project_metrics,
        pool_provided=np.array([other_project_metrics is not None and len(other_project_metrics) > 0]),
        api={k: None if f is None else Assigned.to_one(f) for k, f in frames.items()},
        api_given={k: np.array([f is not None]) for k, f in frames.items()},
        previous_row_counts=[previous_row_count],
        metric_owners=metric_owners,
        by_project_id=False,
    )
    return _assess(inputs, config, as_of).project(0)


def _k3(cv, valid, outcomes, inputs: RunInputs, n: int) -> RuleRows:
    given_values, given_outcomes = inputs.api_given["api_values"], inputs.api_given["api_outcomes"]
    parts = []
    if inputs.api["api_values"] is not None and len(inputs.api["api_values"].frame):
        parts.append(k3_value_units(cv, valid, inputs.api["api_values"].frame, inputs.api["api_values"].p))
    if inputs.api["api_outcomes"] is not None and len(inputs.api["api_outcomes"].frame):
        parts.append(k3_outcome_units(outcomes, inputs.api["api_outcomes"].frame, inputs.api["api_outcomes"].p))
    units = pd.concat(parts) if parts else pd.DataFrame({"p": [], "brand_id": [], "passed": []})
    sources = [
        " and ".join(name for name, g in (("values", v), ("outcomes", o)) if g)
        for v, o in zip(given_values, given_outcomes)
    ]
    available = given_values | given_outcomes
    keep = available[units["p"].to_numpy(dtype="int64")]
    rows = tally_units(
        "K3",
        units["p"].to_numpy(dtype="int64")[keep],
        units["brand_id"].to_numpy(dtype="float64")[keep],
        units["passed"].to_numpy(dtype=bool)[keep],
        n,
        [f"differ between Postgres and the API ({s}; tolerance 0.01 for values, 0.5 % for outcomes)" for s in sources],
        [f"API reconciliation: no keys present in both ({s})" for s in sources],
    )
    rows = rows.where(available[rows.p])
    return RuleRows.concat([rows, no_units("K3", np.flatnonzero(~available), "API reconciliation unavailable")])


def _as_int(values: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):  # ids no kept row has (NaN, inf) cast to garbage, unused
        return values.astype("int64")


def _typed_rows(landed: pd.DataFrame, cv, project_ids: np.ndarray, by_project_id: bool) -> pd.DataFrame:
    """Every landed row with ids, period and value typed (and the assessed project's id); typed
    columns take the landed ones' place, or come last when they were not landed. A landed column that
    already holds the typed values is used as it stands: no copy of the run's rows is made here (the
    validated rows are these rows minus the quarantined ones, cut per project when asked for)."""
    # An id column of int64 holds its typed values where every distinct id survives the float64
    # codes exactly (|id| < 2**53); else the ids go through the codes as before.
    typed = {
        "brand_id": _typed_ids(landed, "brand_id", cv.brands, cv.brand_code),
        "metric_id": _typed_ids(landed, "metric_id", cv.metrics, cv.metric_code),
        "period": cv.period,
        "normalized_value": cv.value,
    }
    if not np.isnan(project_ids).any():
        # Rows assigned by their project_id carry the assessed project's id already.
        same = by_project_id and _is_int64(landed, "project_id")
        typed["project_id"] = landed["project_id"].array if same else project_ids.astype("int64")[cv.p]
    columns = list(landed.columns) + [c for c in typed if c not in landed.columns]
    arrays = {c: typed[c] if c in typed else landed[c].array for c in columns}
    # Column by column, without consolidating blocks: a copy of the run's rows costs seconds.
    return pd.DataFrame(arrays, index=pd.RangeIndex(len(landed)), copy=False)


def _is_int64(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].dtype == np.dtype("int64")


def _typed_ids(landed: pd.DataFrame, column: str, values: np.ndarray, codes: np.ndarray):
    if _is_int64(landed, column) and bool((np.abs(values[np.isfinite(values)]) < 2.0**53).all()):
        return landed[column].array
    return _as_int(values)[codes]  # as int64 per distinct id (a kept row's id is a finite number)


def _assess(inputs: RunInputs, config: DqConfig, as_of) -> RunAssessment:
    members = inputs.members
    member_brand = members.frame["brand_id"] if "brand_id" in members.frame else pd.Series([], dtype="float64")
    rc = build_run_context(inputs.projects, members.p, member_brand, config, as_of)
    n = len(rc)
    project_ids = rc.array("project_id", "float64")
    api_weights = inputs.api["api_weights"]
    k4 = K4Inputs(
        api_weights=None if api_weights is None else api_weights.frame,
        api_p=None if api_weights is None else api_weights.p,
        api_provided=inputs.api_given["api_weights"]
        & (np.bincount(api_weights.p, minlength=n) > 0 if api_weights is not None else False),
        pool=inputs.metric_pool,
        pool_provided=inputs.pool_provided,
    )
    verdicts = assess_metrics(inputs.metrics.frame, inputs.metrics.p, project_ids, k4)
    usable = verdicts.usable

    landed = inputs.values.frame.reset_index(drop=True)
    cv = coerce_values(landed, inputs.values.p, n, inputs.by_project_id)
    where = verdicts.find(cv.p, cv.metric_code, cv.metrics)
    member = rc.members.find_coded(cv.p, cv.brand_code, cv.brands)
    keys = key_order(cv, n)
    u1_failures, u1_first, u1_repeated = rule_u1(landed, cv, keys)
    failures = {
        "V1": rule_v1(landed, cv),
        "V2": rule_v2(cv, rc, verdicts, where, inputs.metric_owners),
        "V3": rule_v3(cv, rc, member),
        "V4": rule_metric_rows(cv, verdicts, where, "v4_reason", "invalid_metric_definition"),
        "U2": rule_metric_rows(cv, verdicts, where, "u2_reason", "duplicate_metric_definition"),
        "U1": u1_failures,
    }
    quarantined, value_q = value_quarantine(landed, cv.p, failures, VALUE_QUARANTINE_ORDER)
    keep = ~quarantined
    section_names = verdicts.table["section_name"].to_numpy(dtype=object)
    section_of_metric = pd.Index(SECTIONS).get_indexer(pd.Series(section_names, dtype=object))
    section_of_row = np.append(section_of_metric, -1).astype("int8")[where]  # where -1: no metric, no section
    valid = valid_rows(cv, keep, member, section_of_row, rc)
    value_rows = _typed_rows(landed, cv, project_ids, inputs.by_project_id)
    kept_ordered, kept_same, kept_same_series = keys.kept(keep)

    outcomes = assess_outcomes(inputs.outcomes.frame, inputs.outcomes.p, n)
    brand_periods = pd.DataFrame(
        {"_p": rc.members.p[valid.bp_member], "brand_id": rc.members.key[valid.bp_member], "period": valid.bp_period}
    )
    c2, availability = rule_c2(brand_periods, outcomes, n)
    n_usable = np.bincount(verdicts.p[usable], minlength=n)
    expected_cells = n_usable * rc.n_members() * valid.n_periods
    rows = UnitGroups(cv.p, cv.brand_code, cv.brands)
    n_landed = counts_by_p(cv.p, n)  # value rows per project
    values_updated = as_updated_at(landed)
    outcomes_updated = as_updated_at(inputs.outcomes.frame)
    results = [
        rule_c1(valid, rc, n_usable),
        c2,
        *row_rule_results(rows, failures, u1_first, u1_repeated, rc),
        *outcomes.results,
        *verdicts.results,
        rule_t1(valid, rc),
        rule_t2(
            rc, [(cv.p, values_updated, n_landed), (outcomes.p, outcomes_updated, np.bincount(outcomes.p, minlength=n))]
        ),
        rule_k1(landed, rows, where, section_names, n),
        rule_k2(cv, keep, kept_ordered, kept_same_series, rows, config.max_jump_points, n),
        _k3(cv, valid, outcomes, inputs, n),
        rule_k5(outcomes, n),
        rule_w1(n_landed, inputs.previous_row_counts, expected_cells),
        rule_w2(valid, rc),
    ]
    rule_results = as_rule_results(results)

    parts = [
        value_q,
        outcome_quarantine(inputs.outcomes.frame.reset_index(drop=True), outcomes.p, outcomes.failed_rows),
        metric_quarantine(verdicts.table, verdicts.p, inputs.metrics.frame.columns),
    ]
    quarantine = pd.concat([q for q in parts if len(q)] or [parts[0]], ignore_index=True)
    quarantine = quarantine.iloc[np.argsort(quarantine["p"].to_numpy(), kind="stable")].reset_index(drop=True)

    dims = dimension_scores(rule_results, rc)
    # The clean set verified as it stands: its values, its metrics' usability, its keys.
    usable_row = np.append(usable, False)[where]
    duplicated_row = duplicated_rows(kept_ordered, kept_same, len(landed))
    return RunAssessment(
        project_ids=[c.project_id for c in rc.projects],
        value_rows=value_rows,
        value_p=cv.p,
        value_kept=keep,
        validated_outcomes=outcomes.validated,
        outcomes_p=outcomes.p,
        quarantine=quarantine,
        rule_results=rule_results,
        dimension_scores=dims,
        dq_scores=dq_scores(dims, config, rc),
        blocking=blocking_checks(value_rows, keep, valid.p, usable_row, duplicated_row, quarantine, n_landed, config),
        outcome_availability=availability,
        usable_metrics=_usable_metrics(verdicts, project_ids),
    )


def _usable_metrics(verdicts, project_ids: np.ndarray) -> pd.DataFrame:
    """The metric set scoring reads (SPEC §5 V4: a failing metric is excluded): active definitions
    passing V4 and U2, with the activity quality decided (a null is_active counts as active)."""
    usable = verdicts.usable
    table = verdicts.table[usable].drop(columns=["active", "v4_reason", "u2_reason"]).assign(is_active=True)
    if not np.isnan(project_ids).any():
        table["project_id"] = project_ids[verdicts.p[usable]].astype("int64")
    table.insert(0, "_p", verdicts.p[usable])
    return table


def as_updated_at(frame: pd.DataFrame) -> np.ndarray | None:
    """updated_at of every row as naive UTC datetime64[ns], None without the column."""
    if "updated_at" not in frame:
        return None
    column = frame["updated_at"]
    if isinstance(column.dtype, pd.DatetimeTZDtype | np.dtype) and str(column.dtype).startswith("datetime64[ns"):
        return column.array.asi8.view("datetime64[ns]")  # tz-aware stamps are UTC instants already
    return as_datetime(column).to_numpy()
