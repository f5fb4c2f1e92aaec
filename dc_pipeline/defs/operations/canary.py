"""Canary report (SPEC §11): every registered report on the TechCorp fixture, built in process through the same
path as the report assets (nothing written), timed, and checked against the SPEC §4 expectations in
`config/canary_expectations.json` and, at the depth they were recorded at, against the key figures of each report
in `config/canary_report_figures.json` (record them again with scripts/record_canary_figures.py after an
intended change) of the reports reading only data-determined inputs (`reads_only_data`)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources

import pandas as pd

from dc_pipeline.adapters import readers
from dc_pipeline.defs.reports.envelopes import report_envelope
from dc_pipeline.domain.operations.canary import expectation_problems, figure_problems, key_figures
from dc_pipeline.domain.reports.catalog import reads_only_data
from dc_pipeline.domain.reports.envelope import check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline.domain.reports.params import parse_report_params
from dc_pipeline.domain.reports.registry import BUILDER_MODULES
from dc_pipeline.domain.settings import SystemConfig

CANARY_PROJECT = 1
FIGURES_FILE = "canary_report_figures.json"


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


def report_figures() -> dict:
    """{"depth", "projects": {project: {report_id: {pointer: value}}}} recorded from the TechCorp reports."""
    text = resources.files("dc_pipeline.config").joinpath(FIGURES_FILE).read_text()
    return json.loads(text)


def record_report_figures(conn, system: SystemConfig, project_ids, depth: str = "standard") -> dict:
    """The key figures of each project's reports that read only data-determined inputs, as the canary compares
    them."""
    reference = readers.read_reference(conn)
    params = parse_report_params({"analysis_depth": depth}, system.analysis_config)
    shared = f"canary-{uuid.uuid4().hex}"  # the reports of one project read its inputs once
    projects = {
        str(p): {
            r: key_figures(report_envelope(conn, r, p, reference, params, system, shared_key=shared)[0])
            for r in BUILDER_MODULES
            if reads_only_data(r)
        }
        for p in project_ids
    }
    return {
        "source": "key figures (insight and recommendation figures, KPI tiles) of the TechCorp reports, recorded by "
        "scripts/record_canary_figures.py",
        "depth": depth,
        "projects": projects,
    }


def run_canary(
    conn,
    system: SystemConfig,
    depth: str = "basic",
    project_id: int = CANARY_PROJECT,
    expected: pd.DataFrame | None = None,
    figures: dict | None = None,
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
    figures = report_figures() if figures is None else figures
    compare = figures.get("depth") == depth  # figures depend on the depth; other depths check envelopes only
    recorded_projects = [int(p) for p in figures.get("projects", {}) if int(p) != project_id] if compare else []
    projects = [project_id, *recorded_projects]
    problems = []
    shared = f"canary-{uuid.uuid4().hex}"  # the reports of one project read its inputs once
    for pid in [p for p in projects if reference.has_project(p)]:
        recorded = figures.get("projects", {}).get(str(pid), {}) if compare else {}
        for report_id in BUILDER_MODULES:  # every registered report, through the report assets' code path
            envelope, _ = report_envelope(conn, report_id, pid, reference, params, system, shared_key=shared)
            found = check_envelope_schema(envelope) + check_insights_cite_numbers(envelope)
            problems += [f"p{pid} {report_id}: {p}" for p in found]
            # Figures of reports reading tuned models depend on the tuning budget and on which model stages have
            # run, not only on the code: those reports are checked for schema and citations only.
            expected_figures = recorded.get(report_id, {}) if reads_only_data(report_id) else {}
            problems += [f"p{pid} {p}" for p in figure_problems(report_id, envelope, expected_figures)]
    seconds = time.perf_counter() - started
    problems += [f"TechCorp {p} (SPEC §4)" for p in expectation_problems(scores.brands, expected, project_id)]
    return CanaryResult("failed" if problems else "ok", round(seconds, 3), problems, len(expected))
