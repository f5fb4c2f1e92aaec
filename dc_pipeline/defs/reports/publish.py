"""Publishing a report (SPEC §7.1): system metadata, signature, rendered files, the report_index row, and the
asset metadata the UI shows. The report assets, adhoc_report_job and `dc-pipeline report` all publish here."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from dc_pipeline.adapters.report_store import record_report, write_report_files
from dc_pipeline.domain.reports.envelope import attach_system_metadata, check_envelope_schema
from dc_pipeline.domain.reports.insights import check_insights_cite_numbers
from dc_pipeline.domain.reports.signing import with_signature
from dc_pipeline.domain.settings import ConfigError
from dc_pipeline.version import code_version

_DEV_KEY = b"dc_pipeline-development-signing-key"
EXTENSIONS = {"json": "json", "html": "html", "markdown": "md"}


def signing_key() -> tuple[bytes, bool]:
    """(key, is_dev). SECRET_KEY is required in prod; in dev a fixed key marks signatures `dev`."""
    secret = os.environ.get("SECRET_KEY", "")
    if secret:
        return secret.encode(), False
    if os.environ.get("DC_ENV", "dev") == "prod":
        raise ConfigError("SECRET_KEY is not set but DC_ENV=prod: set SECRET_KEY to sign reports")
    return _DEV_KEY, True


@dataclass
class PublishedReport:
    report_id: str
    project_id: int
    folder: str  # below REPORTS_DIR: p<id> for the report assets, adhoc/<run>/p<id> for ad-hoc reports
    health: str
    health_reasons: list[str]
    confidence: float | None
    insights: int
    paths: dict[str, str]  # ext -> the timestamped file
    problems: dict[str, list[str]]  # asset check name -> problems found (envelope schema, citations)
    summary: str

    def latest(self, ext: str) -> str:
        return str(Path(self.paths[ext]).with_name(f"latest.{ext}"))

    def url(self, public_url: str, ext: str = "html") -> str | None:
        """The page's address where REPORTS_DIR is served (REPORTS_URL), else None."""
        if not public_url or ext not in self.paths:
            return None
        return f"{public_url.rstrip('/')}/{self.folder}/{self.report_id}/latest.{ext}"


def publish(
    conn,
    reports_root: Path,
    envelope: dict,
    *,
    folder: str,
    project_id: int,
    run_id: str | None,
    started: float,
    input_data_versions: dict[str, str],
    parameters: dict,
    output_formats: tuple[str, ...],
    seed: int,
) -> PublishedReport:
    """Sign, render and write the files and the report_index row."""
    from dc_pipeline.domain.reports.render import render_html, render_markdown

    problems = {
        "envelope_schema_valid": check_envelope_schema(envelope),
        "insights_cite_numbers": check_insights_cite_numbers(envelope),
    }
    generated_at = datetime.now(UTC)
    envelope = attach_system_metadata(
        envelope,
        generated_at=generated_at.isoformat(),
        generation_seconds=time.perf_counter() - started,
        code_version=code_version(),
        dagster_run_id=run_id,
        partition=f"p{project_id}",
        input_data_versions=input_data_versions,
        parameters=parameters,
        seed=seed,
    )
    envelope = with_signature(envelope, *signing_key())
    renderers = {"json": lambda e: json.dumps(e, indent=2, sort_keys=True, ensure_ascii=False),
                 "html": render_html, "markdown": render_markdown}  # fmt: skip
    rendered = {EXTENSIONS[f]: renderers[f](envelope) for f in ("json", *output_formats) if f in renderers}
    paths = write_report_files(reports_root, folder, envelope["report_id"], rendered, generated_at)
    meta = envelope["system_metadata"]
    record_report(
        conn,
        {
            "report_id": envelope["report_id"], "project_id": project_id, "generated_at": generated_at,
            "health": envelope["health"]["status"], "confidence": envelope["data_context"]["confidence"]["value"],
            "paths": paths, "params_hash": _params_hash(parameters),
            "input_data_versions": input_data_versions, "code_version": meta["code_version"],
            "signature": meta["signature"], "run_id": run_id, "folder": folder,
        },
    )  # fmt: skip
    return PublishedReport(
        report_id=envelope["report_id"],
        project_id=project_id,
        folder=folder,
        health=envelope["health"]["status"],
        health_reasons=[r["message"] for r in envelope["health"]["reasons"]],
        confidence=envelope["data_context"]["confidence"]["value"],
        insights=len(envelope["key_insights"]),
        paths=paths,
        problems=problems,
        summary=envelope["executive_summary"],
    )


def report_metadata(report: PublishedReport, public_url: str) -> dict:
    """What the UI shows on the report's partition: health and why, a link to the page, rounded figures."""
    url = report.url(public_url)
    return {
        "health": report.health,
        "health_reasons": dg.MetadataValue.md("\n".join(f"- {r}" for r in report.health_reasons) or "none"),
        "confidence": dg.MetadataValue.float(round(report.confidence, 3))
        if report.confidence is not None
        else dg.MetadataValue.null(),
        "insights": report.insights,
        **({"report": dg.MetadataValue.url(url)} if url else {}),
        "html": dg.MetadataValue.path(report.latest("html")) if "html" in report.paths else dg.MetadataValue.null(),
        "json": dg.MetadataValue.path(report.latest("json")),
        "summary": dg.MetadataValue.md(report.summary),
    }


def _params_hash(parameters: dict) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:16]


def publish_reports(
    conn,
    reference,
    report_ids: list[str],
    project_ids: list[int],
    params,
    system,
    reports_root: Path,
    *,
    folder_prefix: str,
    run_id: str | None,
) -> list[PublishedReport]:
    """Any reports over any projects with any parameters (brand subset in `params.brand_ids`): the ad-hoc path
    of adhoc_report_job and `dc-pipeline report`. Files go under REPORTS_DIR/<folder_prefix>/p<id>/, so they
    never replace what the report assets published."""
    from dc_pipeline.defs.reports.envelopes import report_envelope

    published = []
    for project_id in project_ids:
        for report_id in report_ids:
            started = time.perf_counter()
            envelope, versions = report_envelope(
                conn, report_id, project_id, reference, params, system, shared_key=run_id or folder_prefix
            )
            published.append(
                publish(
                    conn,
                    reports_root,
                    envelope,
                    folder=f"{folder_prefix}/p{project_id}",
                    project_id=project_id,
                    run_id=run_id,
                    started=started,
                    input_data_versions=versions,
                    parameters=params.model_dump(mode="json"),
                    output_formats=params.output_format,
                    seed=system.random_seed,
                )  # fmt: skip
            )
    return published
