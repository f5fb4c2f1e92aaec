"""Catalog minimums of a report (SPEC §7 table): own-project data, brands, periods or observations,
required outcomes. Each unmet minimum is a reason naming the observed and required counts."""

from __future__ import annotations

from typing import Any

from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.health import reason


def _no_scores_reason(ctx: ReportContext) -> str:
    own = ctx.own_brands
    if own.empty:
        return f"no normalized values for project {ctx.project_id}: no DC scores in its own periods"
    why = own["null_reason"].dropna()
    detail = f" (e.g. {why.iloc[0]})" if len(why) else ""
    return f"no DC score for project {ctx.project_id}: all {len(own)} brand-periods are null{detail}"


def minimum_problems(ctx: ReportContext) -> list[dict[str, Any]]:
    """Health reasons (code minimum_data_unmet / missing_outcome) plus `status` for the affected blocks."""
    spec = ctx.spec
    if ctx.latest is None:
        return [{**reason("minimum_data_unmet", _no_scores_reason(ctx), 0, 1), "status": "insufficient_data"}]
    problems = []
    n_brands = int(ctx.latest_panel["brand_id"].nunique())
    if n_brands < spec.min_brands:
        problems.append(
            {
                **reason(
                    "minimum_data_unmet",
                    f"insufficient brands: {n_brands} brands with a DC score "
                    f"in the latest period, {spec.min_brands} needed",
                    n_brands,
                    spec.min_brands,
                ),
                "status": "insufficient_data",
            }
        )
    n_periods = int(ctx.panel["period"].nunique())
    if n_periods < spec.min_periods:
        problems.append(
            {
                **reason(
                    "minimum_data_unmet",
                    f"insufficient history: {n_periods} periods, {spec.min_periods} needed",
                    n_periods,
                    spec.min_periods,
                ),
                "status": "insufficient_data",
            }
        )
    for outcome in spec.required_outcomes:
        n_obs = len(ctx.observations(outcome))
        if n_obs == 0:
            text = (
                f"missing outcome: {outcome} is null for all {len(ctx.panel)} brand-periods of project {ctx.project_id}"
                if ctx.data.outcomes is not None
                else f"missing outcome: {outcome} not loaded (validated_outcomes absent for project {ctx.project_id})"
            )
            problems.append({**reason("missing_outcome", text, 0, spec.min_obs or 1), "status": "missing_input"})
        elif spec.min_obs is not None and n_obs < spec.min_obs:
            problems.append(
                {
                    **reason(
                        "minimum_data_unmet",
                        f"insufficient observations: {n_obs} brand-periods "
                        f"with DC and {outcome}, {spec.min_obs} needed",
                        n_obs,
                        spec.min_obs,
                    ),
                    "status": "insufficient_data",
                }
            )
    return problems


def observation_count(ctx: ReportContext) -> int:
    """Brand-periods with DC and every required outcome (SPEC "obs"); brand-periods with DC otherwise."""
    return len(ctx.observations(*ctx.spec.required_outcomes))
