"""`dc-pipeline quality`: the DQ score of one project (and brands), computed now from the source tables.

Runs the same rules as the `validate_project` asset (domain.quality.assess_project) without Dagster.
Exit codes: 0 not poor, 1 poor (project or a requested brand) or blocked, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

EXIT_OK, EXIT_POOR, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    """Bad arguments: the message names the fix; exit code 2."""


@dataclass
class ProjectInputs:
    project: dict
    brands: pd.DataFrame  # brand_id, brand_name, ... (all brands)
    members: pd.DataFrame  # project_brands rows of the project
    metrics: pd.DataFrame  # every project's metric definitions
    values: pd.DataFrame
    outcomes: pd.DataFrame


def register(sub: argparse._SubParsersAction) -> None:
    """Add the quality subcommand to the `dc-pipeline` parser."""
    cmd = sub.add_parser("quality", help="data quality score, band and dimensions of a project (and brands)")
    cmd.add_argument("--project", required=True, help="project id (101 or p101)")
    cmd.add_argument(
        "--brand",
        action="append",
        default=[],
        metavar="BRAND",
        help="brand id (12, b12) or name ('Brand A'); repeatable",
    )
    cmd.add_argument("--json", action="store_true", help="print JSON instead of text")
    cmd.add_argument("--dsn", default=None, help="a Postgres URL (default: DATABASE_URL, else embedded)")
    cmd.set_defaults(func=cmd_quality)


def cmd_quality(args) -> int:
    try:
        project_id = _parse_id(args.project, "p", "project")
        from dc_pipeline.adapters.database_location import resolve_source_url

        url = args.dsn or resolve_source_url()
        inputs = read_project_inputs(url, project_id)
        brand_ids = resolve_brands(args.brand, inputs)
    except UsageError as exc:
        print(f"dc-pipeline quality: {exc}", file=sys.stderr)
        return EXIT_USAGE
    assessment = assess(inputs, _dq_config())
    summary = summarize(assessment, inputs, brand_ids)
    print(json.dumps(summary, indent=2, default=str) if args.json else render_text(summary))
    return exit_code(summary)


def _parse_id(token: str, prefix: str, what: str) -> int:
    text = str(token).strip()
    text = text[1:] if text[:1].lower() == prefix else text
    if not text.isdigit():
        raise UsageError(f"{what} {token!r} is not an id: give a number such as 101 or {prefix}101")
    return int(text)


def _dq_config():
    """dq_config of DC_CONFIG_PATH, else the packaged system_config.json (as SettingsResource does)."""
    import os

    from dc_pipeline.domain.settings import parse_system_config

    path = os.environ.get("DC_CONFIG_PATH")
    text = (
        Path(path).read_text()
        if path
        else resources.files("dc_pipeline.config").joinpath("system_config.json").read_text()
    )
    return parse_system_config(json.loads(text), path or "system_config.json").dq_config


def read_project_inputs(url: str, project_id: int) -> ProjectInputs:
    from dc_pipeline.adapters import postgres, source_reader

    with postgres.connect(url) as conn:
        source_reader.check_source_schema(conn)
        reference = source_reader.read_reference(conn)
        projects = reference["projects"]
        if project_id not in set(projects["project_id"].astype(int)):
            known = ", ".join(map(str, sorted(projects["project_id"].astype(int)))) or "none"
            raise UsageError(
                f"project {project_id} is not in public.projects of {postgres.redact_url(url)} "
                f"(known: {known}); pass one of those to --project"
            )
        metrics = postgres.read_frame(conn, "SELECT * FROM public.metrics ORDER BY metric_id")
        values = source_reader.read_project_rows(conn, "normalisedvalue", [project_id])
        outcomes = source_reader.read_project_rows(conn, "business_outcomes", [project_id])
    project = projects[projects["project_id"].astype(int) == project_id].iloc[0].to_dict()
    members = reference["project_brands"]
    return ProjectInputs(
        project=project | {"project_id": project_id},
        brands=reference["brands"],
        members=members[members["project_id"].astype(int) == project_id].reset_index(drop=True),
        metrics=metrics,
        values=values,
        outcomes=outcomes,
    )


def resolve_brands(tokens: list[str], inputs: ProjectInputs) -> list[int]:
    """Brand ids for ids ('12', 'b12') or names (case-insensitive); each must be a member of the project."""
    names = inputs.brands.assign(key=inputs.brands["brand_name"].astype(str).str.strip().str.lower())
    member_ids = set(inputs.members["brand_id"].astype(int))
    resolved = []
    for token in tokens:
        text = str(token).strip()
        by_name = names[names["key"] == text.lower()]
        if len(by_name):
            ids = [int(b) for b in by_name["brand_id"] if int(b) in member_ids] or [int(by_name["brand_id"].iloc[0])]
            brand_id = ids[0]
        elif text.lstrip("bB").isdigit():
            brand_id = int(text.lstrip("bB"))
        else:
            raise UsageError(
                f"brand {token!r} is neither a brand id nor a brand name; "
                f"members of project {inputs.project['project_id']}: {_member_list(inputs)}"
            )
        if brand_id not in member_ids:
            raise UsageError(
                f"brand {token!r} (id {brand_id}) is not a member of project "
                f"{inputs.project['project_id']}; pick one of: {_member_list(inputs)}"
            )
        resolved.append(brand_id)
    return list(dict.fromkeys(resolved))


def _member_list(inputs: ProjectInputs) -> str:
    names = inputs.brands.set_index("brand_id")["brand_name"]
    return ", ".join(f"{int(b)} {names.get(b, '?')}" for b in sorted(inputs.members["brand_id"].astype(int))) or "none"


def assess(inputs: ProjectInputs, config, as_of: pd.Timestamp | None = None):
    from dc_pipeline.domain.quality import assess_project

    pid = int(inputs.project["project_id"])
    metric_project = inputs.metrics["project_id"].astype(int)
    return assess_project(
        project=inputs.project,
        metrics=inputs.metrics[metric_project == pid],
        members=inputs.members,
        landed_values=inputs.values,
        landed_outcomes=inputs.outcomes,
        config=config,
        as_of=as_of if as_of is not None else pd.Timestamp.now(tz="UTC").tz_localize(None).normalize(),
        other_project_metrics=inputs.metrics[metric_project != pid],
        metric_owners=dict(zip(inputs.metrics["metric_id"], inputs.metrics["project_id"])),
    )


def summarize(assessment, inputs: ProjectInputs, brand_ids: list[int]) -> dict:
    scores = assessment.dq_scores
    project_row = scores[scores["scope"] == "project"].iloc[0]
    dims = assessment.dimension_scores
    names = inputs.brands.set_index("brand_id")["brand_name"]
    brand_rows = scores[scores["scope"] == "brand"].set_index("brand_id")
    shown = brand_ids or sorted(int(b) for b in brand_rows.index)
    totals = assessment.rule_totals()
    return {
        "project_id": int(inputs.project["project_id"]),
        "project_name": inputs.project.get("project_name"),
        "score": _number(project_row["score"]),
        "band": project_row["band"],
        "blocked": assessment.is_blocked,
        "blocking": [
            {"check": b["check"], "passed": b["passed"], "message": b["message"]} for b in assessment.blocking
        ],
        "dimensions": {
            r.dimension: {"score": _number(r.score), "units": int(r.units)}
            for r in dims[dims["scope"] == "project"].itertuples()
        },
        "brands": [
            {
                "brand_id": b,
                "brand_name": names.get(b),
                "requested": b in brand_ids,
                "score": _number(brand_rows.at[b, "score"]) if b in brand_rows.index else None,
                "band": brand_rows.at[b, "band"] if b in brand_rows.index else None,
            }
            for b in shown
        ],
        "failed_rules": [
            {
                "rule_id": r.rule_id,
                "dimension": r.dimension,
                "severity": r.severity,
                "failed": int(r.failed),
                "units": int(r.units),
            }
            for r in totals[totals["failed"] > 0].itertuples()
        ],
        "quarantine": {
            f"{r.source_table}/{r.rule_id}": int(r.rows) for r in assessment.quarantine_counts().itertuples()
        },
        "rows": {"landed": len(inputs.values), "validated": len(assessment.validated_values)},
    }


def _number(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def exit_code(summary: dict) -> int:
    requested_poor = any(b["band"] == "poor" for b in summary["brands"] if b["requested"])
    return EXIT_POOR if summary["band"] == "poor" or requested_poor or summary["blocked"] else EXIT_OK


def _fmt(score) -> str:
    return "  n/a" if score is None else f"{score:.3f}"


def render_text(s: dict) -> str:
    lines = [
        f"DQ p{s['project_id']} {s['project_name'] or ''}: {_fmt(s['score'])} {s['band'] or 'no score'}"
        f"  ({s['rows']['validated']} of {s['rows']['landed']} value rows validated)"
    ]
    for check in s["blocking"]:
        lines.append(f"  {'ok     ' if check['passed'] else 'BLOCKED'} {check['check']}: {check['message']}")
    lines.append("dimensions:")
    lines += [f"  {dim:<13} {_fmt(d['score'])}  ({d['units']} units)" for dim, d in s["dimensions"].items()]
    lines.append("brands:" if s["brands"] else "brands: none")
    lines += [
        f"  b{b['brand_id']:<5} {str(b['brand_name'] or ''):<20} {_fmt(b['score'])} {b['band'] or 'no score'}"
        for b in s["brands"]
    ]
    lines.append("failed rules:" if s["failed_rules"] else "failed rules: none")
    lines += [
        f"  {r['rule_id']:<3} {r['dimension']:<13} {r['severity']:<5} {r['failed']} of {r['units']}"
        for r in s["failed_rules"]
    ]
    lines.append("quarantine (rows by rule):" if s["quarantine"] else "quarantine: none")
    lines += [f"  {key:<22} {n}" for key, n in s["quarantine"].items()]
    return "\n".join(lines)
