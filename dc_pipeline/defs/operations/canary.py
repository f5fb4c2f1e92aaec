"""Canary report (SPEC §11): `dc_score_performance_analysis` on the TechCorp fixture, built in
process from the stored scores (nothing written), timed, and checked against the §4 expectations."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dc_pipeline.defs.io_manager import read_table
from dc_pipeline.defs.reports import inputs
from dc_pipeline.demo import techcorp
from dc_pipeline.domain.reports.dc_score_performance import build_dc_score_performance_analysis
from dc_pipeline.domain.reports.envelope import check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline.domain.reports.params import parse_report_params
from dc_pipeline.domain.scoring import tiers
from dc_pipeline.domain.settings import SystemConfig
from dc_pipeline.domain.timeline import series_projects

CANARY_PROJECT = 1


@dataclass
class CanaryResult:
    status: str  # ok | failed | missing_input
    seconds: float | None
    problems: list[str] = field(default_factory=list)
    brands_checked: int = 0


def expected_techcorp_dc(project_id: int) -> dict[int, float]:
    """§4: one weight-1 metric per section holding the section score, so DC is their mean."""
    return {b: float(np.mean(s)) for (p, b), s in techcorp.SECTION_SCORES.items() if p == project_id}


def expected_techcorp_ranking(project_id: int) -> pd.DataFrame:
    """§4 table of one project: brand_id, dc_score, tier, rank (descending DC, 'min' ties)."""
    dc = expected_techcorp_dc(project_id)
    frame = pd.DataFrame({"brand_id": list(dc), "dc_score": list(dc.values())})
    frame["tier"] = tiers(frame["dc_score"].to_numpy())
    frame["rank"] = frame["dc_score"].rank(ascending=False, method="min").astype(int)
    return frame.set_index("brand_id")


def techcorp_problems(brands: pd.DataFrame, project_id: int) -> list[str]:
    """Stored DC score (1e-6), tier and rank of each TechCorp brand against §4."""
    got = brands[brands["project_id"] == project_id].set_index("brand_id")
    problems = []
    for brand_id, row in expected_techcorp_ranking(project_id).iterrows():
        if brand_id not in got.index:
            problems.append(f"TechCorp brand {brand_id} has no DC score in project {project_id}")
            continue
        dc = float(got.at[brand_id, "dc_score"])
        if not abs(dc - row.dc_score) <= 1e-6:
            problems.append(f"TechCorp brand {brand_id} DC {dc:.6f} != expected {row.dc_score:.6f} (§4)")
        if got.at[brand_id, "tier"] != row.tier:
            problems.append(f"TechCorp brand {brand_id} tier {got.at[brand_id, 'tier']} != expected {row.tier} (§4)")
        if pd.isna(got.at[brand_id, "rank"]) or int(got.at[brand_id, "rank"]) != row["rank"]:
            problems.append(f"TechCorp brand {brand_id} rank {got.at[brand_id, 'rank']} != expected {row['rank']} (§4)")
    return problems


def run_canary(conn, system: SystemConfig, depth: str = "basic", project_id: int = CANARY_PROJECT) -> CanaryResult:
    projects = read_table(conn, "dc_staging.ref_projects", None)
    if projects.empty or project_id not in set(projects["project_id"].astype(int)):
        return CanaryResult(
            "missing_input",
            None,
            [f"project {project_id} is not in dc_staging.ref_projects: materialize reference_snapshot first"],
        )
    started = time.perf_counter()
    timeline = series_projects(projects, project_id)
    scores = inputs.read_scores(conn, timeline)
    if scores.brands.empty or (scores.brands["project_id"] == project_id).sum() == 0:
        return CanaryResult(
            "missing_input",
            None,
            [f"no dc_scores rows for project {project_id}: materialize ingest_job for p{project_id} first"],
        )
    brands = read_table(conn, "dc_staging.ref_brands", None)
    metrics = inputs.read_metrics(conn, timeline)
    project = projects[projects["project_id"] == project_id].iloc[0].to_dict()
    params = parse_report_params({"analysis_depth": depth}, system.analysis_config)
    envelope = build_dc_score_performance_analysis(
        scores,
        {int(r.brand_id): r.brand_name for r in brands.itertuples()},
        project,
        params,
        dq=inputs.read_dq(conn, project_id),
        effort_costs={int(r.metric_id): float(r.effort_cost) for r in metrics.itertuples()},
        min_data_points=system.analysis_config.min_data_points,
    )
    seconds = time.perf_counter() - started
    problems = check_envelope_schema(envelope) + check_insights_cite_numbers(envelope)
    problems += techcorp_problems(scores.brands, project_id)
    expected = expected_techcorp_dc(project_id)
    return CanaryResult("failed" if problems else "ok", round(seconds, 3), problems, len(expected))
