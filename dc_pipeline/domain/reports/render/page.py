"""The view of an envelope that both page templates render: header, KPI tiles, charts with the insights
they support, remaining findings, recommendations and the appendix tables."""

from __future__ import annotations

from typing import Any

from dc_pipeline.domain.reports.render.display import cell, number, tables


def _kpi(tile: dict[str, Any]) -> dict[str, str]:
    value = tile["value"]
    shown = value if isinstance(value, str) else number(value, tile.get("format", "auto"))
    return {"label": tile["label"], "value": shown}


def _placed(envelope: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Charts with the insights whose cited figures lie under the chart's `supports` prefixes; leftovers."""
    insights = list(envelope.get("key_insights") or [])
    used: set[str] = set()
    charts = []
    for name, viz in (envelope.get("visualizations") or {}).items():
        prefixes = viz.get("supports") or [viz.get("data_path", "")]
        mine = [
            i
            for i in insights
            if i["id"] not in used and any(f["path"].startswith(p) for f in i["figures"] for p in prefixes)
        ]
        used |= {i["id"] for i in mine}
        charts.append({"name": name, "viz": viz, "insights": mine})
    return charts, [i for i in insights if i["id"] not in used]


def page_view(envelope: dict[str, Any]) -> dict[str, Any]:
    context = envelope.get("data_context") or {}
    periods = context.get("periods") or {}
    project = envelope.get("project") or {}
    charts, other = _placed(envelope)
    appendix = []
    for name, block in (envelope.get("analysis") or {}).items():
        appendix.append(
            {
                "name": name,
                "status": block.get("status"),
                "reason": block.get("reason"),
                "tables": tables(name, {k: v for k, v in block.items() if k not in ("status", "reason")}),
            }
        )
    meta = envelope.get("system_metadata") or {}
    conf = context.get("confidence") or {}
    dq = context.get("data_quality") or {}
    return {
        "title": envelope.get("title"),
        "report_id": envelope.get("report_id"),
        "category": envelope.get("category"),
        "project": project.get("project_name") or f"project {project.get('project_id')}",
        "project_id": project.get("project_id"),
        "period_range": f"{periods.get('first')} to {periods.get('last')} ({periods.get('n')} periods)"
        if periods.get("first")
        else "no scored periods",
        "health": (envelope.get("health") or {}).get("status"),
        "reasons": [r["message"] for r in (envelope.get("health") or {}).get("reasons") or []],
        "kpis": [_kpi(t) for t in envelope.get("kpis") or []]
        + [
            {"label": "Confidence", "value": number(conf.get("value"), "score")},
            {"label": "Data quality", "value": f"{dq.get('band') or 'n/a'}"},
        ],
        "charts": charts,
        "other_insights": other,
        "recommendations": envelope.get("strategic_recommendations") or [],
        "appendix": appendix,
        "context_tables": tables("Data context", context),
        "meta_rows": [[k, cell(v, k)] for k, v in meta.items() if k not in ("parameters", "input_data_versions")]
        + [["parameters", cell(meta.get("parameters"))], ["input_data_versions", cell(meta.get("input_data_versions"))]]
        if meta
        else [],
    }
