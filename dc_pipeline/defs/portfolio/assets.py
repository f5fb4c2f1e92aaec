"""`portfolio_analysis` (per project) and `cross_project_evolution` (every project): SPEC §8. They read the
stored scores, plans and outcome models and refit nothing."""

import time

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import readers
from dc_pipeline.adapters.store import stored_metadata
from dc_pipeline.defs.automation import ON_ANY_UPSTREAM_CHANGE, ON_UPSTREAM_CHANGE_WITH_PAIRS
from dc_pipeline.defs.partitions import (
    project_backfill_policy,
    project_of_pair,
    projects_partitions,
    run_project_ids,
)
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.domain.portfolio import overview
from dc_pipeline.domain.portfolio.tables import PORTFOLIO_TABLES
from dc_pipeline.domain.reference import Reference


class PortfolioConfig(dg.Config):
    """effort_budget: effort units to allocate across a project's brands (SPEC §8); unset: the sum of the
    brands' knee-plan efforts."""

    effort_budget: float | None = None


def _md(frame: pd.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(frame.to_markdown(index=False, floatfmt=".2f") if len(frame) else "none")


@dg.asset(
    partitions_def=projects_partitions,
    backfill_policy=project_backfill_policy,
    deps=[
        "dc_scores",
        "validated_outcomes",
        "outcome_models",
        dg.AssetDep("brand_recommendations", partition_mapping=project_of_pair),
    ],
    group_name="portfolio",
    kinds={"pandas", "postgres"},
    metadata=stored_metadata("portfolio_analysis"),
    automation_condition=ON_UPSTREAM_CHANGE_WITH_PAIRS,
    description="Cross-brand comparison (rank, z-score, percentile, gap to leader; paired t and Wilcoxon with "
    "Holm), synergy of first differences, complementarity, transfer pairs and the value-weighted effort "
    "allocation on the brands' stored Pareto fronts (SPEC §8).",
)
def portfolio_analysis(
    context: dg.AssetExecutionContext,
    config: PortfolioConfig,
    reference_snapshot: dict[str, pd.DataFrame],
    pipeline_db: PostgresResource,
    settings: SettingsResource,
):
    from dc_pipeline.domain.panels import outcome_effect
    from dc_pipeline.domain.portfolio.project import portfolio_tables

    started = time.perf_counter()
    system = settings.load()
    alpha = round(1 - system.analysis_config.default_confidence_level, 10)
    reference = Reference.from_snapshot(reference_snapshot)
    per_project = {}
    for project_id in run_project_ids(context):
        members, timeline = reference.members(project_id), reference.timeline(project_id)
        with pipeline_db.connection() as conn:
            scores = readers.read_dc_scores(conn, timeline, members)
            outcomes = readers.read_validated_outcomes(conn, [project_id], members)
            plans = readers.read_asset_tables(conn, "brand_recommendations", [project_id], members)
            models = readers.read_outcome_model_results(conn, project_id)
        per_project[project_id] = portfolio_tables(
            project_id, scores=scores, members=reference.memberships(project_id),
            grain=reference.grain(project_id), outcomes=outcomes, plans=plans["brand_recommendation_plans"],
            summaries=plans["brand_recommendation_summaries"], alpha=alpha, effort_budget=config.effort_budget,
            revenue_effect=outcome_effect(models, "revenue"),
        )  # fmt: skip
    for project_id, tables in per_project.items():
        names = {b: reference.brand_name(b) for b in reference.members(project_id)}
        summary = tables["portfolio_allocation_summary"].iloc[0]
        pairwise = tables["portfolio_pairwise_tests"]
        context.add_asset_metadata(
            {
                "leaders": _md(overview.leaders(tables["portfolio_comparison"], names)),
                "allocation": _md(overview.allocation_view(tables["portfolio_allocation"], names)),
                "allocation_budget": dg.MetadataValue.text(
                    f"{summary['budget']:.2f} ({summary['budget_source']})"
                    if summary["status"] == "ok"
                    else str(summary["reason"])
                ),
                "synergy": _md(overview.synergy_counts(tables["portfolio_synergy"])),
                "transfer_pairs": _md(overview.transfer_view(tables["portfolio_transfers"], names)),
                "pairs_tested": dg.MetadataValue.int(int((pairwise["status"] == "ok").sum())),
                "pairs_significant": dg.MetadataValue.int(int(pairwise["significant"].sum())),
            },
            partition_key=f"p{project_id}",
        )
    frames = {n: pd.concat([t[n] for t in per_project.values()], ignore_index=True) for n in PORTFOLIO_TABLES}
    return dg.Output(frames, metadata={"wall_seconds": dg.MetadataValue.float(round(time.perf_counter() - started, 3))})


@dg.asset(
    deps=["dc_scores", "src_metrics"],
    group_name="portfolio",
    kinds={"pandas", "postgres"},
    metadata=stored_metadata("cross_project_evolution"),
    automation_condition=ON_ANY_UPSTREAM_CHANGE,
    description="Each brand across the projects it belongs to, ordered by period: DC and section deltas when "
    "the metric frameworks agree (Jaccard >= 0.7), the exact value / weight-mix split of each DC change, and "
    "its projects ranked by mean DC with their consistency (SPEC §8).",
)
def cross_project_evolution(
    context: dg.AssetExecutionContext, reference_snapshot: dict[str, pd.DataFrame], pipeline_db: PostgresResource
):
    from dc_pipeline.domain.portfolio.evolution import evolution_tables

    reference = Reference.from_snapshot(reference_snapshot)
    project_ids = reference.project_ids()
    with pipeline_db.connection() as conn:
        scores = readers.read_latest_scores(conn, project_ids)
        metrics = readers.read_metric_definitions(conn, project_ids)
    tables = evolution_tables(scores, metrics, reference.projects)
    evolution = tables["brand_evolution"]
    context.log.info(f"{len(evolution)} brand steps across {len(project_ids)} projects")
    return dg.Output(
        tables,
        metadata={
            "brand_steps": dg.MetadataValue.int(len(evolution)),
            "comparable_steps": dg.MetadataValue.int(int((evolution["status"] == "ok").sum())),
            "steps_by_series_group": _md(overview.steps_by_series_group(evolution)),
            "evolution": _md(overview.evolution_view(evolution, reference.brand_names).head(50)),
        },
    )
