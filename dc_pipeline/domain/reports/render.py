"""HTML and Markdown renderings of an envelope (SPEC §7.1): same content, no external references."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from dc_pipeline.domain.reports.charts import figure_svg, figure_table
from dc_pipeline.domain.reports.insights import format_number

_CSS = """body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f2f2f2}.badge{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:bold}
.PASS{background:#2e7d32}.REVIEW{background:#ef6c00}.FAIL{background:#c62828}pre{white-space:pre-wrap}
.status{font-style:italic;color:#555}"""


def _cell(value: Any) -> str:
    """Deterministic text for one table cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value, 4 if abs(value) < 10 else 2)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _is_table_of_records(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict) and bool(value) and all(isinstance(v, dict) for v in value.values())


def _records(value: Any) -> tuple[list[str], list[list[Any]]]:
    """Rows of a list of dicts or a dict of dicts (its key becomes the first column); nested
    records stay out of the row and are rendered as their own tables."""
    items = list(enumerate(value)) if isinstance(value, list) else list(value.items())
    columns: list[str] = [] if isinstance(value, list) else ["key"]
    for _, rec in items:
        for k, v in rec.items():
            if k not in columns and not _is_table_of_records(v):
                columns.append(k)
    rows = [[key if c == "key" else rec.get(c) for c in columns] for key, rec in items]
    return columns, rows


def _nested(value: Any) -> list[tuple[str, Any]]:
    items = list(enumerate(value)) if isinstance(value, list) else list(value.items())
    return [(f"{key} / {k}", v) for key, rec in items for k, v in rec.items() if _is_table_of_records(v)]


# ---------- HTML ----------

def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_value(title: str, value: Any, level: int) -> list[str]:
    h = min(level, 6)
    if _is_table_of_records(value):
        out = [f"<h{h}>{escape(title)}</h{h}>", _html_table(*_records(value))]
        for sub_title, sub in _nested(value):
            out += _html_value(f"{title} / {sub_title}", sub, level + 1)
        return out
    if isinstance(value, dict):
        scalars = [[k, v] for k, v in value.items() if not isinstance(v, (dict, list)) or not _is_table_of_records(v)]
        out = [f"<h{h}>{escape(title)}</h{h}>"]
        if scalars:
            out.append(_html_table(["field", "value"], scalars))
        for k, v in value.items():
            if _is_table_of_records(v):
                out += _html_value(f"{title} / {k}", v, level + 1)
        return out
    return [f"<p>{escape(title)}: {escape(_cell(value))}</p>"]


def _inline_markdown(text: str) -> str:
    """Escaped text with **bold** rendered; the summary uses no other inline Markdown."""
    import re

    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(text))


def _html_summary(markdown: str) -> str:
    """The summary's Markdown subset (headings, bullets, bold, paragraphs) as HTML, no library needed."""
    html: list[str] = []
    in_list = False
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith(("- ", "* ")):
            if not in_list:
                html.append("<ul>")
                in_list = True
            html.append(f"<li>{_inline_markdown(stripped[2:])}</li>")
            continue
        if in_list:
            html.append("</ul>")
            in_list = False
        if not stripped:
            continue
        level = len(stripped) - len(stripped.lstrip("#"))
        if 0 < level <= 6 and stripped[level:level + 1] == " ":
            html.append(f"<h{min(level + 1, 6)}>{_inline_markdown(stripped[level + 1:])}</h{min(level + 1, 6)}>")
        else:
            html.append(f"<p>{_inline_markdown(stripped)}</p>")
    if in_list:
        html.append("</ul>")
    return "\n".join(html)


def render_html(envelope: dict[str, Any]) -> str:
    """A self-contained page: inline CSS and SVG, no scripts, no external URLs."""
    title = envelope.get("title", envelope.get("report_id", "report"))
    state = envelope.get("health") or {}
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f'<p><span class="badge {escape(str(state.get("status")))}">{escape(str(state.get("status")))}</span> '
             f"{escape(str(envelope.get('report_id')))} / {escape(str(envelope.get('category')))}</p>"]
    if state.get("reasons"):
        parts.append(_html_table(["code", "message", "value", "threshold"],
                                 [[r["code"], r["message"], r["value"], r["threshold"]] for r in state["reasons"]]))
    parts += ["<h2>Executive summary</h2>", _html_summary(envelope.get("executive_summary", ""))]
    parts.append("<h2>Key insights</h2><ol>")
    parts += [f"<li>{escape(i['text'])} <small>(priority {escape(_cell(i['priority']))})</small></li>"
              for i in envelope.get("key_insights") or []]
    parts.append("</ol><h2>Strategic recommendations</h2><ol>")
    parts += [f"<li>{escape(r['text'])}</li>" for r in envelope.get("strategic_recommendations") or []]
    parts.append("</ol><h2>Analysis</h2>")
    for name, block in (envelope.get("analysis") or {}).items():
        parts.append(f'<p class="status">{escape(name)}: {escape(str(block.get("status")))}'
                     + (f" ({escape(str(block.get('reason')))})" if block.get("reason") else "") + "</p>")
        parts += _html_value(name, {k: v for k, v in block.items() if k not in ("status", "reason")}, 3)
    if envelope.get("visualizations"):
        parts.append("<h2>Charts</h2>")
    for name, viz in (envelope.get("visualizations") or {}).items():
        parts.append(f'<figure id="fig-{escape(name)}">{figure_svg(viz)}'
                     f"<figcaption>{escape(viz['title'])} (data: {escape(viz['data_path'])})</figcaption></figure>")
    parts += _html_value("Data context", envelope.get("data_context") or {}, 2)
    parts += _html_value("System metadata", envelope.get("system_metadata") or {}, 2)
    parts.append("</body></html>")
    return "\n".join(parts)


# ---------- Markdown ----------

def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return (["| " + " | ".join(_md_escape(str(h)) for h in header) + " |",
             "|" + "---|" * len(header)]
            + ["| " + " | ".join(_md_escape(_cell(c)) for c in row) + " |" for row in rows] + [""])


def _md_value(title: str, value: Any, level: int) -> list[str]:
    hashes = "#" * min(level, 6)
    if _is_table_of_records(value):
        out = [f"{hashes} {_md_escape(title)}", "", *_md_table(*_records(value))]
        for sub_title, sub in _nested(value):
            out += _md_value(f"{title} / {sub_title}", sub, level + 1)
        return out
    if isinstance(value, dict):
        scalars = [[k, v] for k, v in value.items() if not _is_table_of_records(v)]
        out = [f"{hashes} {_md_escape(title)}", ""]
        if scalars:
            out += _md_table(["field", "value"], scalars)
        for k, v in value.items():
            if _is_table_of_records(v):
                out += _md_value(f"{title} / {k}", v, level + 1)
        return out
    return [f"{_md_escape(title)}: {_md_escape(_cell(value))}", ""]


def render_markdown(envelope: dict[str, Any], html_href: str = "latest.html") -> str:
    """Same content as the HTML; each chart becomes a table of its data plus a link to its HTML figure."""
    title = envelope.get("title", envelope.get("report_id", "report"))
    state = envelope.get("health") or {}
    lines = [f"# {_md_escape(title)}", "", f"**Health: {state.get('status')}** "
             f"({envelope.get('report_id')} / {envelope.get('category')})", ""]
    if state.get("reasons"):
        lines += _md_table(["code", "message", "value", "threshold"],
                           [[r["code"], r["message"], r["value"], r["threshold"]] for r in state["reasons"]])
    lines += ["## Executive summary", "", envelope.get("executive_summary", ""), "## Key insights", ""]
    lines += [f"{n}. {i['text']} (priority {_cell(i['priority'])})"
              for n, i in enumerate(envelope.get("key_insights") or [], start=1)] + [""]
    lines += ["## Strategic recommendations", ""]
    lines += [f"{n}. {r['text']}" for n, r in enumerate(envelope.get("strategic_recommendations") or [], start=1)]
    lines += ["", "## Analysis", ""]
    for name, block in (envelope.get("analysis") or {}).items():
        lines += [f"*{name}: {block.get('status')}*" + (f" ({block.get('reason')})" if block.get("reason") else ""), ""]
        lines += _md_value(name, {k: v for k, v in block.items() if k not in ("status", "reason")}, 3)
    if envelope.get("visualizations"):
        lines += ["## Charts", ""]
    for name, viz in (envelope.get("visualizations") or {}).items():
        lines += [f"### {_md_escape(viz['title'])}", "", *_md_table(*figure_table(viz)),
                  f"[Figure: {_md_escape(viz['title'])}]({html_href}#fig-{name}) (data: `{viz['data_path']}`)", ""]
    lines += _md_value("Data context", envelope.get("data_context") or {}, 2)
    lines += _md_value("System metadata", envelope.get("system_metadata") or {}, 2)
    return "\n".join(lines)
