"""Canary report (SPEC §11): the reports on the TechCorp fixture, built in process through the same path as the
report assets (nothing written), timed, and checked against the SPEC §4 expectations in
`config/canary_expectations.json`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

from dc_pipeline.adapters import readers
from dc_pipeline.defs.reports.envelopes import report_envelope
from dc_pipeline.domain.operations.canary import expectation_problems
from dc_pipeline.domain.reports.envelope import check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline.domain.reports.params import parse_report_params
from dc_pipeline.domain.reports.registry import BUILDER_MODULES
from dc_pipeline.domain.settings import SystemConfig

CANARY_PROJECT = 1


@dataclass
class CanaryResult:
    status: str  # ok | failed | missing_input
    seconds: float | None
    problems: list[str] = field(default_factory=list)
    brands_checked: int = 0


def canary_expectations(project_id: int = CANARY_PROJECT) -> pd.DataFrame:
    """brand_id, dc_score, tier, rank the fixture must produce (SPEC §4)."""
    text = resources.files("dc_pipeline.config").joinpath("canary_expectations.json").read_text()
    return pd.DataFrame(json.loads(text)["projects"][str(project_id)])


def run_canary(
    conn,
    system: SystemConfig,
    depth: str = "basic",
    project_id: int = CANARY_PROJECT,
    expected: pd.DataFrame | None = None,
) -> CanaryResult:
    expected = canary_expectations(project_id) if expected is None else expected
    reference = readers.read_reference(conn)
    if not reference.has_project(project_id):
        return CanaryResult(
            "missing_input",
            None,
            [f"project {project_id} is not in dc_staging.ref_projects: materialize reference_snapshot first"],
        )
    started = time.perf_counter()
    scores = readers.read_dc_scores(conn, [project_id])
    if scores.brands.empty:
        return CanaryResult(
            "missing_input",
            None,
            [f"no dc_scores rows for project {project_id}: materialize ingest_job for p{project_id} first"],
        )
    params = parse_report_params({"analysis_depth": depth}, system.analysis_config)
    problems = []
    for report_id in BUILDER_MODULES:  # every registered report, through the report assets' code path
        envelope, _ = report_envelope(conn, report_id, project_id, reference, params, system)
        found = check_envelope_schema(envelope) + check_insights_cite_numbers(envelope)
        problems += [f"{report_id}: {p}" for p in found]
    seconds = time.perf_counter() - started
    problems += [f"TechCorp {p} (SPEC §4)" for p in expectation_problems(scores.brands, expected, project_id)]
    return CanaryResult("failed" if problems else "ok", round(seconds, 3), problems, len(expected))
