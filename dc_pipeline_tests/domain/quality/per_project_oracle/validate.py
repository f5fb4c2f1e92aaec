"""`assess_project`: run every SPEC §5 rule on one project's landed rows, quarantine the failures,
and score the six DQ dimensions per project and per member brand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dc_pipeline.domain.json_values import frame_records
from dc_pipeline.domain.quality.catalog import RULE_ORDER, RULE_RESULT_COLUMNS, VALUE_QUARANTINE_ORDER
from dc_pipeline.domain.settings import DqConfig
from dc_pipeline_tests.domain.quality.per_project_oracle.context import build_context
from dc_pipeline_tests.domain.quality.per_project_oracle.quarantine import (
    VALUE_KEY_COLUMNS,
    empty_quarantine,
    metric_quarantine,
    outcome_quarantine,
    value_quarantine,
)
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_coverage import (
    k3_value_units,
    rule_c1,
    rule_k1,
    rule_k2,
    rule_t1,
    rule_w2,
)
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_metrics import assess_metrics
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_outcomes import (
    assess_outcomes,
    k3_outcome_units,
    rule_c2,
    rule_k5,
)
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_project import rule_t2, rule_w1
from dc_pipeline_tests.domain.quality.per_project_oracle.rules_values import (
    coerce_values,
    row_rule_results,
    rule_metric_rows,
    rule_u1,
    rule_v1,
    rule_v2,
    rule_v3,
)
from dc_pipeline_tests.domain.quality.per_project_oracle.scoring import dimension_scores, dq_scores
from dc_pipeline_tests.domain.quality.per_project_oracle.tally import (
    RuleRows,
    as_frame,
    default_describe,
    no_units,
    tally_units,
)

BLOCKING_RULES = ("V1", "V2", "U1")
EXAMPLE_ROWS = 5


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


def _typed_valid(landed: pd.DataFrame, cv, keep: np.ndarray, project_id: int | None) -> pd.DataFrame:
    valid = landed.loc[keep].copy()
    valid["brand_id"] = cv.brand[keep].astype("int64")
    valid["metric_id"] = cv.metric[keep].astype("int64")
    valid["period"] = cv.period.to_numpy()[keep]
    valid["normalized_value"] = cv.value[keep]
    if project_id is not None:
        valid["project_id"] = np.int64(project_id)
    return valid.reset_index(drop=True)


def _k3(valid: pd.DataFrame, outcomes: pd.DataFrame, api_values, api_outcomes) -> RuleRows:
    if api_values is None and api_outcomes is None:
        return no_units("K3", "API reconciliation unavailable")
    parts = []
    if api_values is not None and len(api_values):
        parts.append(k3_value_units(valid, api_values))
    if api_outcomes is not None and len(api_outcomes):
        parts.append(k3_outcome_units(outcomes, api_outcomes))
    units = pd.concat(parts) if parts else pd.DataFrame({"brand_id": [], "passed": []})
    sources = " and ".join(n for n, f in (("values", api_values), ("outcomes", api_outcomes)) if f is not None)
    return tally_units(
        "K3",
        units["brand_id"].to_numpy(dtype="float64"),
        units["passed"].to_numpy(dtype=bool),
        default_describe(
            "K3", f"differ between Postgres and the API ({sources}; tolerance 0.01 for values, 0.5 % for outcomes)"
        ),
        f"API reconciliation: no keys present in both ({sources})",
    )


def _blocking(
    valid: pd.DataFrame, usable_ids: np.ndarray, quarantine: pd.DataFrame, n_landed: int, config: DqConfig
) -> list[dict]:
    value = valid["normalized_value"].to_numpy(dtype="float64")
    bad_v1 = ~(np.isfinite(value) & (value >= 0) & (value <= 100))
    bad_v2 = ~np.isin(valid["metric_id"].to_numpy(), usable_ids)
    bad_u1 = valid.duplicated(["brand_id", "metric_id", "period"], keep=False).to_numpy()
    bad = bad_v1 | bad_v2 | bad_u1
    examples = valid.loc[bad, [c for c in VALUE_KEY_COLUMNS if c in valid]].head(EXAMPLE_ROWS)
    value_q = quarantine[quarantine["source_table"] == "normalisedvalue"]
    held = value_q["rule_id"].value_counts()
    held_text = ", ".join(f"{int(held.get(r, 0))} {r}" for r in BLOCKING_RULES)
    clean = {
        "check": "clean_set_has_no_v1_v2_u1_violations",
        "passed": not bad.any(),
        "message": (
            f"clean set of {len(valid)} rows has {int(bad_v1.sum())} V1, {int(bad_v2.sum())} V2 and "
            f"{int(bad_u1.sum())} U1 violations; quarantined: {held_text}"
        ),
        "rows": frame_records(examples, non_finite="text"),
    }
    share = len(value_q) / n_landed if n_landed else 0.0
    limit = config.quarantine_max_fraction
    share_check = {
        "check": "quarantine_share_within_limit",
        "passed": share <= limit + 1e-12,
        "message": (f"{len(value_q)} of {n_landed} landed value rows quarantined ({share:.2%}, limit {limit:.0%})"),
        "rows": value_q["row_key"].head(EXAMPLE_ROWS).tolist(),
    }
    return [clean, share_check]


def _scorable(usable: pd.DataFrame, project_id: int | None) -> pd.DataFrame:
    """The metric set scoring reads (SPEC §5 V4: a failing metric is excluded): active definitions
    passing V4 and U2, with the activity quality decided (a null is_active counts as active)."""
    frame = usable.drop(columns=["active", "v4_reason", "u2_reason"]).assign(is_active=True)
    if project_id is not None:
        frame["project_id"] = np.int64(project_id)
    return frame.reset_index(drop=True)


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
    ctx = build_context(project, members, config, as_of)
    verdicts = assess_metrics(metrics, ctx.project_id, api_weights, other_project_metrics)
    usable = verdicts.usable

    landed = landed_values.reset_index(drop=True)
    cv = coerce_values(landed)
    u1_failures, u1_keys = rule_u1(landed, cv)
    failures = {
        "V1": rule_v1(landed, cv),
        "V2": rule_v2(cv, ctx, verdicts, metric_owners),
        "V3": rule_v3(cv, ctx),
        "V4": rule_metric_rows(cv, verdicts, "v4_reason", "invalid_metric_definition"),
        "U2": rule_metric_rows(cv, verdicts, "u2_reason", "duplicate_metric_definition"),
        "U1": u1_failures,
    }
    quarantined, value_q = value_quarantine(landed, failures, VALUE_QUARANTINE_ORDER)
    validated = _typed_valid(landed, cv, ~quarantined, ctx.project_id)

    sections = usable.set_index("metric_id")["section_name"]
    internal = validated[["brand_id", "metric_id", "period", "normalized_value"]].copy()
    internal["section_name"] = internal["metric_id"].map(sections)
    periods = ctx.expected_periods(internal["period"].min() if len(internal) else None)

    outcomes = assess_outcomes(landed_outcomes)
    c2, availability = rule_c2(internal, outcomes.validated)
    expected_cells = len(usable) * ctx.members.size * periods.size
    results = [
        rule_c1(internal, ctx, periods, len(usable)),
        c2,
        *row_rule_results(cv, failures, u1_keys, ctx.grain),
        *outcomes.results,
        *verdicts.results,
        rule_t1(internal, ctx),
        rule_t2(ctx, landed_values, landed_outcomes),
        rule_k1(landed, cv.metric, cv.brand, verdicts.table.set_index("metric_id")["section_name"]),
        rule_k2(internal, config.max_jump_points),
        _k3(internal, outcomes.validated, api_values, api_outcomes),
        rule_k5(outcomes.validated),
        rule_w1(len(landed), previous_row_count, expected_cells),
        rule_w2(internal, ctx, periods),
    ]
    rule_results = as_frame([row for rows in results for row in rows])
    rule_results["_order"] = rule_results["rule_id"].map({r: i for i, r in enumerate(RULE_ORDER)})
    rule_results = (
        rule_results.sort_values(["_order", "brand_id"], na_position="first", kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)[list(RULE_RESULT_COLUMNS)]
    )

    quarantine = pd.concat(
        [
            q
            for q in (
                value_q,
                outcome_quarantine(landed_outcomes.reset_index(drop=True), outcomes.failed_rows),
                metric_quarantine(verdicts.table, metrics.columns),
            )
            if len(q)
        ]
        or [empty_quarantine()],
        ignore_index=True,
    )

    dims = dimension_scores(rule_results, ctx.members)
    return QualityAssessment(
        validated_values=validated,
        validated_outcomes=outcomes.validated,
        quarantine=quarantine,
        rule_results=rule_results,
        dimension_scores=dims,
        dq_scores=dq_scores(dims, config, ctx.members),
        blocking=_blocking(validated, usable["metric_id"].to_numpy(), quarantine, len(landed), config),
        outcome_availability=availability,
        usable_metrics=_scorable(usable, ctx.project_id),
    )
