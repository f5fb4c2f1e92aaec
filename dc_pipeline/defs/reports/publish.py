"""Publishing a report: signing key, system metadata, rendered files and the report_index row (SPEC §7.1)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.report_store import write_report_files
from dc_pipeline.domain.reports.envelope import attach_system_metadata
from dc_pipeline.domain.reports.render import render_html, render_markdown
from dc_pipeline.domain.reports.signing import with_signature
from dc_pipeline.version import code_version

_DEV_KEY = b"dc_pipeline-development-signing-key"


def signing_key() -> tuple[bytes, bool]:
    """(key, is_dev). SECRET_KEY is required in prod; in dev a fixed key marks signatures `dev`."""
    secret = os.environ.get("SECRET_KEY", "")
    if secret:
        return secret.encode(), False
    if os.environ.get("DC_ENV", "dev") == "prod":
        raise dg.Failure(description="SECRET_KEY is not set but DC_ENV=prod: set SECRET_KEY to sign reports")
    return _DEV_KEY, True


def publish_report(
    context: dg.AssetExecutionContext,
    conn,
    reports_root: Path,
    envelope: dict,
    *,
    partition: str,
    started: float,
    input_data_versions: dict[str, str],
    parameters: dict,
    output_formats: list[str],
    seed: int,
) -> dict:
    """Sign, render and write the files and the report_index row; return metadata for the asset."""
    generated_at = datetime.now(UTC)
    envelope = attach_system_metadata(
        envelope,
        generated_at=generated_at.isoformat(),
        generation_seconds=time.perf_counter() - started,
        code_version=code_version(),
        dagster_run_id=context.run_id,
        partition=partition,
        input_data_versions=input_data_versions,
        parameters=parameters,
        seed=seed,
    )
    key, dev = signing_key()
    envelope = with_signature(envelope, key, dev)
    import json

    rendered = {"json": json.dumps(envelope, indent=2, sort_keys=True, ensure_ascii=False)}
    if "html" in output_formats:
        rendered["html"] = render_html(envelope)
    if "markdown" in output_formats:
        rendered["md"] = render_markdown(envelope)
    paths = write_report_files(reports_root, partition, envelope["report_id"], rendered, generated_at)
    index_row = pd.DataFrame(
        [
            {
                "report_id": envelope["report_id"],
                "project_id": int(partition[1:]),
                "generated_at": pd.Timestamp(generated_at),
                "health": envelope["health"]["status"],
                "confidence": envelope["data_context"]["confidence"]["value"],
                "paths": paths,
                "params_hash": _params_hash(parameters),
                "input_data_versions": input_data_versions,
                "code_version": envelope["system_metadata"]["code_version"],
                "signature": envelope["system_metadata"]["signature"],
                "run_id": context.run_id,
            }
        ]
    )
    postgres.ensure_table(conn, "dc_reports.report_index", index_row)
    postgres.copy_frame(conn, "dc_reports.report_index", index_row)
    return {
        "health": envelope["health"]["status"],
        "health_reasons": dg.MetadataValue.md(
            "\n".join(f"- {r['message']}" for r in envelope["health"]["reasons"]) or "none"
        ),
        "confidence": envelope["data_context"]["confidence"]["value"],
        "insights": len(envelope["key_insights"]),
        **{f"path_{ext}": dg.MetadataValue.path(p) for ext, p in paths.items()},
        "summary": dg.MetadataValue.md(envelope["executive_summary"]),
    }


def _params_hash(parameters: dict) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(parameters, sort_keys=True, default=str).encode()).hexdigest()[:16]
