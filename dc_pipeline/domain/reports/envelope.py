"""The report envelope (SPEC §7.1): blocks, schema check, system metadata and executive summary.

Insight, health and signing building blocks live in their own modules and are re-exported here,
so report builders and the Dagster wiring import one place.
"""

from __future__ import annotations

import copy
from typing import Any

from dc_pipeline.domain.reports.blocks.status import ok_block, skipped_block, unavailable_block
from dc_pipeline.domain.reports.catalog import REPORT_CATEGORIES, REPORTS_BY_ID
from dc_pipeline.domain.reports.health import confidence, dq_band, health, reason
from dc_pipeline.domain.reports.insights import (
    Figure,
    check_insights_cite_numbers,
    cite,
    insight,
    recommendation,
)
from dc_pipeline.domain.reports.json_values import PointerError, resolve_pointer
from dc_pipeline.domain.reports.signing import canonical_json, sign, verify_signature, with_signature
from dc_pipeline.domain.reports.summary import executive_summary

__all__ = [
    "Figure",
    "insight",
    "recommendation",
    "cite",
    "check_insights_cite_numbers",
    "check_envelope_schema",
    "confidence",
    "health",
    "reason",
    "dq_band",
    "canonical_json",
    "sign",
    "verify_signature",
    "with_signature",
    "executive_summary",
    "attach_system_metadata",
    "ok_block",
    "unavailable_block",
    "skipped_block",
    "BLOCK_STATUSES",
    "VISUALIZATION_TYPES",
]

BLOCK_STATUSES = ("ok", "insufficient_data", "missing_input", "skipped_by_depth")
VISUALIZATION_TYPES = (
    "bar",
    "line",
    "scatter",
    "heatmap",
    "radar",
    "fan",
    "pareto",
    "waterfall",
    "bubble",
    "tornado",
)
HEALTH_STATUSES = ("PASS", "REVIEW", "FAIL")
TOP_LEVEL_KEYS = (
    "report_id",
    "title",
    "category",
    "analysis",
    "key_insights",
    "strategic_recommendations",
    "visualizations",
    "data_context",
    "executive_summary",
    "health",
)
RUN_FIELDS = ("generated_at", "generation_seconds", "dagster_run_id", "signature")


def attach_system_metadata(
    envelope: dict[str, Any],
    *,
    generated_at: str,
    generation_seconds: float,
    code_version: str,
    dagster_run_id: str | None,
    partition: str,
    input_data_versions: dict[str, str],
    parameters: dict[str, Any],
    optuna_studies: list[str] | None = None,
    seed: int = 42,
) -> dict[str, Any]:
    """A copy with `system_metadata` set (unsigned; sign with `with_signature`)."""
    out = copy.deepcopy(envelope)
    out["system_metadata"] = {
        "generated_at": generated_at,
        "generation_seconds": float(generation_seconds),
        "code_version": code_version,
        "dagster_run_id": dagster_run_id,
        "partition": partition,
        "input_data_versions": dict(sorted(input_data_versions.items())),
        "parameters": parameters,
        "optuna_studies": list(optuna_studies or []),
        "seed": int(seed),
        "signature": None,
    }
    return out


def _check_item_fields(kind: str, item: Any, fields: tuple[str, ...]) -> list[str]:
    if not isinstance(item, dict):
        return [f"{kind}: item is not an object"]
    problems = [f"{kind} {item.get('id')}: missing field {f!r}" for f in fields if f not in item]
    if not isinstance(item.get("figures", []), list):
        problems.append(f"{kind} {item.get('id')}: figures is not a list")
    for fig in item.get("figures") or []:
        if not isinstance(fig, dict) or not {"name", "value", "path"} <= set(fig):
            problems.append(f"{kind} {item.get('id')}: a figure lacks name, value or path")
    return problems


def check_envelope_schema(envelope: dict[str, Any]) -> list[str]:
    """Structural problems of an envelope; [] when it follows §7.1."""
    if not isinstance(envelope, dict):
        return ["envelope is not an object"]
    problems = [f"missing top-level key {k!r}" for k in TOP_LEVEL_KEYS if k not in envelope]
    spec = REPORTS_BY_ID.get(envelope.get("report_id"))
    if spec is None:
        problems.append(f"unknown report_id {envelope.get('report_id')!r}")
    elif envelope.get("category") != spec.category or envelope.get("title") != spec.title:
        problems.append(f"category/title do not match the catalog entry of {spec.report_id}")
    if envelope.get("category") not in REPORT_CATEGORIES:
        problems.append(f"category {envelope.get('category')!r} is not one of {REPORT_CATEGORIES}")
    analysis = envelope.get("analysis")
    if not isinstance(analysis, dict):
        problems.append("analysis is not an object")
    else:
        for name, block in analysis.items():
            if not isinstance(block, dict) or block.get("status") not in BLOCK_STATUSES:
                problems.append(f"analysis/{name}: status must be one of {BLOCK_STATUSES}")
            elif block["status"] != "ok" and not block.get("reason"):
                problems.append(f"analysis/{name}: status {block['status']} without a reason")
    for item in envelope.get("key_insights") or []:
        problems += _check_item_fields("key_insights", item, ("id", "text", "figures", "priority"))
        if isinstance(item, dict) and not (0.0 <= float(item.get("priority", -1)) <= 1.0):
            problems.append(f"key_insights {item.get('id')}: priority outside [0, 1]")
    for item in envelope.get("strategic_recommendations") or []:
        problems += _check_item_fields(
            "strategic_recommendations",
            item,
            ("id", "text", "brand_id", "section", "expected_delta_dc", "effort", "figures", "source"),
        )
    visualizations = envelope.get("visualizations")
    if not isinstance(visualizations, dict):
        problems.append("visualizations is not an object")
    else:
        for name, viz in visualizations.items():
            if not isinstance(viz, dict) or viz.get("type") not in VISUALIZATION_TYPES:
                problems.append(f"visualizations/{name}: type must be one of {VISUALIZATION_TYPES}")
                continue
            if not isinstance(viz.get("title"), str) or not isinstance(viz.get("figure"), dict):
                problems.append(f"visualizations/{name}: needs a title string and a figure object")
            try:
                resolve_pointer(envelope, viz.get("data_path", ""))
            except PointerError as exc:
                problems.append(f"visualizations/{name}: data_path does not resolve: {exc}")
    context = envelope.get("data_context")
    if not isinstance(context, dict):
        problems.append("data_context is not an object")
    else:
        for key in (
            "projects_analyzed",
            "brands_analyzed",
            "periods",
            "observations",
            "data_quality",
            "confidence",
            "missing_inputs",
        ):
            if key not in context:
                problems.append(f"data_context: missing {key!r}")
    if not isinstance(envelope.get("executive_summary"), str):
        problems.append("executive_summary is not a string")
    status = (envelope.get("health") or {}).get("status")
    if status not in HEALTH_STATUSES:
        problems.append(f"health.status must be one of {HEALTH_STATUSES}")
    for r in (envelope.get("health") or {}).get("reasons") or []:
        if not isinstance(r, dict) or not {"code", "message", "value", "threshold"} <= set(r):
            problems.append("health reason lacks code, message, value or threshold")
    if status != "PASS" and not (envelope.get("health") or {}).get("reasons"):
        problems.append(f"health {status} without reasons")
    meta = envelope.get("system_metadata")
    if meta is not None:
        for key in ("generated_at", "code_version", "partition", "input_data_versions", "parameters", "seed"):
            if key not in meta:
                problems.append(f"system_metadata: missing {key!r}")
    return problems
