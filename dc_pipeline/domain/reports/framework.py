"""`build_report`: one assembly for every report (SPEC §7, §7.1), written once.

A `ReportBuilder` declares its inputs (`needs`), its analysis blocks with the depth that produces
each, and functions for insight candidates, recommendations, charts and KPI tiles. `build_report`
applies the catalog minimums, depth, confidence, health, insight ranking and count, the executive
summary, and (when given) the run metadata and signature."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dc_pipeline.domain.json_values import to_jsonable
from dc_pipeline.domain.reports.blocks.status import skipped_block, unavailable_block
from dc_pipeline.domain.reports.catalog import full_analysis_need, report_spec
from dc_pipeline.domain.reports.context import AnalysisSettings, ReportContext
from dc_pipeline.domain.reports.data import INPUTS, ReportData
from dc_pipeline.domain.reports.envelope import VISUALIZATION_TYPES, attach_system_metadata, executive_summary
from dc_pipeline.domain.reports.health import confidence, dq_band, health, reason
from dc_pipeline.domain.reports.insights import renumber
from dc_pipeline.domain.reports.json_values import iso_date, resolve_pointer
from dc_pipeline.domain.reports.minimums import minimum_problems, observation_count
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.reports.signing import with_signature
from dc_pipeline.domain.robustness.health import tier_band_reasons
from dc_pipeline.domain.timeline import seasonal_period

DEPTHS = ("basic", "standard", "detailed")
Root = dict[str, Any]


@dataclass(frozen=True)
class Block:
    name: str
    compute: Callable[[ReportContext, dict[str, Any]], dict[str, Any]]  # (ctx, blocks so far) -> block
    depth: str = "basic"  # the lowest analysis_depth that produces it


@dataclass(frozen=True)
class Kpi:
    label: str
    path: str  # JSON pointer into the envelope
    format: str = "score"  # score | count | money | coefficient | percent | text


def _none(root: Root, ctx: ReportContext) -> list:
    return []


@dataclass(frozen=True)
class ReportBuilder:
    report_id: str
    needs: frozenset[str]
    blocks: tuple[Block, ...]
    insights: Callable[[Root, ReportContext], list[dict[str, Any]]]
    recommendations: Callable[[Root, ReportContext], list[dict[str, Any]]] = _none
    charts: Callable[[Root, ReportContext], dict[str, dict[str, Any]]] = lambda root, ctx: {}
    kpis: Callable[[Root, ReportContext], list[Kpi]] = _none

    def __post_init__(self) -> None:
        unknown = set(self.needs) - INPUTS
        if unknown:
            raise ValueError(f"{self.report_id}: unknown inputs {sorted(unknown)}; known: {sorted(INPUTS)}")
        report_spec(self.report_id)  # fails for an id the catalog does not know


@dataclass(frozen=True)
class RunInfo:
    """The run fields of system_metadata (SPEC §7.1), filled by whoever runs the report."""

    generated_at: str
    code_version: str
    partition: str
    dagster_run_id: str | None = None
    input_data_versions: dict[str, str] = field(default_factory=dict)
    optuna_studies: tuple[str, ...] = ()


def _analysis(builder: ReportBuilder, ctx: ReportContext, failed: list[dict[str, Any]]) -> dict[str, Any]:
    wanted = DEPTHS.index(ctx.params.analysis_depth)
    analysis: dict[str, Any] = {}
    status = "missing_input" if any(p["status"] == "missing_input" for p in failed) else "insufficient_data"
    text = "; ".join(p["message"] for p in failed)
    for block in builder.blocks:
        if DEPTHS.index(block.depth) > wanted:
            analysis[block.name] = skipped_block(ctx.params.analysis_depth, block.depth)
        elif failed:
            analysis[block.name] = unavailable_block(status, text, failed[0]["value"], failed[0]["threshold"])
        else:
            analysis[block.name] = to_jsonable(block.compute(ctx, analysis))
    return analysis


def _charts(builder: ReportBuilder, root: Root, ctx: ReportContext) -> dict[str, Any]:
    charts = builder.charts(root, ctx)
    for name, viz in charts.items():
        if viz["type"] not in VISUALIZATION_TYPES:
            raise ValueError(f"{builder.report_id}: chart {name!r} has unknown type {viz['type']!r}")
    limit = ctx.params.max_charts
    return to_jsonable(dict(list(charts.items())[:limit] if limit is not None else charts.items()))


def _kpis(builder: ReportBuilder, root: Root, ctx: ReportContext) -> list[dict[str, Any]]:
    tiles = []
    for kpi in builder.kpis(root, ctx):
        try:
            value = resolve_pointer(root, kpi.path)
        except LookupError:
            continue
        if value is not None:
            tiles.append({"label": kpi.label, "value": value, "path": kpi.path, "format": kpi.format})
    return tiles


def _model_problems(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        reason(
            "model_not_validated",
            f"{name}: model used is not validated ({b.get('validation_reason')})",
            b.get("skill"),
            0,
        )
        for name, b in analysis.items()
        if b.get("status") == "ok" and b.get("model_validated") is False
    ]


def _block_review_reasons(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """REVIEW reasons a block found in its inputs (e.g. forecast interval coverage > 10 pp off nominal)."""
    return [r for b in analysis.values() if b.get("status") == "ok" for r in b.get("review_reasons") or []]


def _named_brands(insights: list[dict[str, Any]], names: dict[int, str]) -> set[int]:
    by_name = {name: brand_id for brand_id, name in names.items()}
    return {
        by_name[f["value"]]
        for i in insights
        for f in i["figures"]
        if isinstance(f["value"], str) and f["value"] in by_name
    }


def _data_context(ctx: ReportContext, analysis: dict[str, Any]) -> dict[str, Any]:
    panel = ctx.panel
    periods = sorted(panel["period"].unique())
    dq = dict(ctx.data.dq or {})
    if ctx.data.dq is None:
        dq = {
            "status": "missing_input",
            "score": None,
            "band": None,
            "reason": f"no data-quality score for project {ctx.project_id}",
        }
    else:
        dq.setdefault("band", dq_band(dq.get("score")))
    spec = ctx.spec
    n_full = full_analysis_need(spec, ctx.settings.min_data_points, seasonal_period(ctx.data.grain))
    n_obs = observation_count(ctx) if len(panel) else 0
    validated = not any(b.get("model_validated") is False for b in analysis.values() if b.get("status") == "ok")
    missing = [dq["reason"]] if dq.get("status") == "missing_input" else []
    missing += [
        f"optional outcome {o}: no values" for o in spec.optional_outcomes if o in panel and panel[o].notna().sum() == 0
    ]
    return to_jsonable(
        {
            "projects_analyzed": sorted(ctx.data.timeline),
            "brands_analyzed": sorted(panel["brand_id"].unique()),
            "periods": {
                "first": iso_date(periods[0]) if periods else None,
                "last": iso_date(periods[-1]) if periods else None,
                "n": len(periods),
                "grain": ctx.data.grain,
            },
            "observations": n_obs,
            "data_quality": dq,
            "confidence": confidence(dq.get("score"), n_obs, n_full, validated),
            "missing_inputs": missing,
        }
    )


def build_report(
    builder: ReportBuilder,
    data: ReportData,
    params: ReportParams,
    *,
    settings: AnalysisSettings = AnalysisSettings(),
    run: RunInfo | None = None,
    signing_key: tuple[bytes, bool] | None = None,
    views: dict | None = None,
) -> dict[str, Any]:
    """The §7.1 envelope of one report; with `run` it carries system_metadata, with `signing_key` a signature.
    `views`: one dict shared by the reports of a project built from the same inputs (ReportContext), unused for a
    brand subset."""
    started = time.perf_counter()
    spec = report_spec(builder.report_id)
    shared = None if params.brand_ids else views
    ctx = ReportContext(data.scoped(params.brand_ids), params, spec, settings, views=shared)
    ctx.panel  # noqa: B018 - built before any builder code runs, so shared views come from unchanged inputs
    failed = minimum_problems(ctx)
    analysis = _analysis(builder, ctx, failed)
    root: Root = {"analysis": analysis}
    ranked = sorted(
        enumerate(builder.insights(root, ctx)) if not failed else [], key=lambda t: (-t[1]["priority"], t[0])
    )
    insights = renumber([c for _, c in ranked[: params.n_insights]], "I")
    recommendations = renumber(builder.recommendations(root, ctx)[: params.n_insights] if not failed else [], "R")
    visualizations = _charts(builder, root, ctx) if params.include_visualizations and not failed else {}
    context = _data_context(ctx, analysis)
    dq = context["data_quality"]
    robustness = (ctx.data.robustness or {}).get("robustness_monte_carlo")
    envelope: dict[str, Any] = {
        "report_id": spec.report_id,
        "title": spec.title,
        "category": spec.category,
        "project": {"project_id": ctx.project_id, "project_name": data.project.get("project_name")},
        "analysis": analysis,
        "key_insights": insights,
        "strategic_recommendations": recommendations,
        "visualizations": visualizations,
        "data_context": context,
        "health": health(
            analysis=analysis,
            minimum_problems=[{k: v for k, v in p.items() if k != "status"} for p in failed],
            dq_score=dq.get("score"),
            quarantined_rows=dq.get("quarantined_rows"),
            model_problems=_model_problems(analysis),
            coverage_problems=_block_review_reasons(analysis),
            tier_uncertain_brands=tier_band_reasons(robustness, _named_brands(insights, ctx.names), ctx.names),
        ),
    }
    envelope["kpis"] = _kpis(builder, envelope, ctx) if not failed else []
    envelope["executive_summary"] = executive_summary(envelope)
    if run is not None:
        envelope = attach_system_metadata(
            envelope,
            generated_at=run.generated_at,
            generation_seconds=time.perf_counter() - started,
            code_version=run.code_version,
            dagster_run_id=run.dagster_run_id,
            partition=run.partition,
            input_data_versions=run.input_data_versions,
            parameters=params.model_dump(mode="json"),
            optuna_studies=list(run.optuna_studies),
            seed=settings.seed,
        )
    if signing_key is not None:
        envelope = with_signature(envelope, *signing_key)
    return envelope
