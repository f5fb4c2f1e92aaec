"""`dc-pipeline report`: render any report of any project from the stored pipeline tables, through the same path
as adhoc_report_job (defs/reports/publish.publish_reports), and print where the files are.

    dc-pipeline report --project 101 --report performance_forecasting_analysis [--report ...|all]
                       [--brand B ...] [--depth basic|standard|detailed] [--format html,json,markdown]

Exit codes: 0 published (whatever the reports' health), 1 a report failed its envelope or citation check,
2 bad arguments (the message names the fix)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from dc_pipeline.cli_quality import ProjectInputs, UsageError, _parse_id, resolve_brands

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("report", help="render reports of a project from the stored tables and print the paths")
    cmd.add_argument("--project", required=True, help="project id (101 or p101)")
    cmd.add_argument(
        "--report",
        action="append",
        required=True,
        metavar="ID",
        help="report id (see SPEC §7), a comma-separated list, or 'all'; repeatable",
    )
    cmd.add_argument("--brand", action="append", default=[], metavar="BRAND", help="brand id or name; repeatable")
    cmd.add_argument("--depth", default=None, choices=["basic", "standard", "detailed"])
    cmd.add_argument("--format", default="html,json,markdown", help="comma-separated: json, html, markdown")
    cmd.add_argument("--horizon", type=int, default=None, help="forecast horizon in months (1..24)")
    cmd.add_argument("--confidence", type=float, default=None, help="0.8, 0.9, 0.95 or 0.99")
    cmd.add_argument("--no-charts", action="store_true", help="build no visualizations")
    cmd.add_argument("--reports-dir", default=None, help="default: REPORTS_DIR, else ./reports")
    cmd.add_argument("--dsn", default=None, help="a Postgres URL (default: DATABASE_URL, else embedded)")
    cmd.set_defaults(func=cmd_report)


def report_ids(tokens: list[str]) -> list[str]:
    from dc_pipeline.domain.reports.catalog import REPORTS_BY_ID
    from dc_pipeline.domain.reports.registry import BUILDER_MODULES

    wanted = [t.strip() for token in tokens for t in token.split(",") if t.strip()]
    if "all" in wanted:
        return list(BUILDER_MODULES)
    unknown = [r for r in wanted if r not in REPORTS_BY_ID]
    if unknown:
        raise UsageError(f"unknown report id(s) {', '.join(unknown)}; choose from: {', '.join(REPORTS_BY_ID)} or all")
    unbuilt = [r for r in wanted if r not in BUILDER_MODULES]
    if unbuilt:
        raise UsageError(f"no builder yet for {', '.join(unbuilt)}; built: {', '.join(BUILDER_MODULES)}")
    return list(dict.fromkeys(wanted))


def _params(args, brand_ids: list[int], system):
    from dc_pipeline.domain.reports.params import parse_report_params
    from dc_pipeline.domain.settings import ConfigError

    raw: dict = {"output_format": [f.strip() for f in args.format.split(",") if f.strip()]}
    for key, value in (
        ("analysis_depth", args.depth),
        ("forecast_horizon", args.horizon),
        ("confidence_level", args.confidence),
    ):
        if value is not None:
            raw[key] = value
    if args.no_charts:
        raw["include_visualizations"] = False
    if brand_ids:
        raw["brand_ids"] = tuple(brand_ids)
    try:
        return parse_report_params(raw, system.analysis_config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def cmd_report(args) -> int:
    from dc_pipeline.adapters import postgres, readers
    from dc_pipeline.adapters.database_location import resolve_source_url
    from dc_pipeline.defs.reports.publish import publish_reports
    from dc_pipeline.defs.resources import SettingsResource

    system = SettingsResource().load()
    url = args.dsn or resolve_source_url()
    root = Path(args.reports_dir or os.environ.get("REPORTS_DIR", "reports")).resolve()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        project_id = _parse_id(args.project, "p", "project")
        wanted = report_ids(args.report)
        with postgres.connect(url) as conn:
            reference = readers.read_reference(conn)
            if not reference.has_project(project_id):
                known = ", ".join(str(p) for p in reference.project_ids()) or "none"
                raise UsageError(
                    f"project {project_id} is not in the reference snapshot of {postgres.redact_url(url)} "
                    f"(known: {known}); run `dc-pipeline demo --no-ui` or materialize reference_snapshot first"
                )
            inputs = ProjectInputs(
                project={"project_id": project_id},
                brands=reference.brands,
                members=reference.project_brands[reference.project_brands["project_id"] == project_id],
                metrics=None,
                values=None,
                outcomes=None,
            )
            params = _params(args, resolve_brands(args.brand, inputs), system)
            published = publish_reports(
                conn, reference, wanted, [project_id], params, system, root,
                folder_prefix=f"adhoc/cli-{stamp}", run_id=None,
            )  # fmt: skip
            conn.commit()
    except UsageError as exc:
        print(f"dc-pipeline report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problems = 0
    for r in published:
        print(f"p{r.project_id} {r.report_id} [{r.health}] confidence {_fmt(r.confidence)}")
        for reason in r.health_reasons[:3]:
            print(f"  - {reason}")
        for ext, path in r.paths.items():
            print(f"  {ext:<4} {path}")
        for check, found in r.problems.items():
            problems += len(found)
            for p in found:
                print(f"  {check}: {p}")
    print(f"{len(published)} report(s) under {root / f'adhoc/cli-{stamp}'}")
    return EXIT_PROBLEMS if problems else EXIT_OK


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"
