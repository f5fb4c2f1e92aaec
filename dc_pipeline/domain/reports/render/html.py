"""The self-contained HTML page (inline CSS and SVG, no script, no external URL), jinja2 with autoescape."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt

from dc_pipeline.domain.reports.render.page import page_view


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("dc_pipeline.domain.reports.render", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _markdown_html(text: str) -> str:
    # CommonMark with raw HTML disabled: data-supplied '<script>' stays text; backslash escapes are honoured.
    return MarkdownIt("commonmark", {"html": False}).render(text)


def render_html(envelope: dict[str, Any], *, draw_charts: bool = True) -> str:
    from dc_pipeline.domain.reports.charts.draw import figure_svg

    view = page_view(envelope)
    for chart in view["charts"]:
        chart["svg"] = figure_svg(chart["viz"]) if draw_charts else ""
    view["summary_html"] = _markdown_html(envelope.get("executive_summary", ""))
    return _environment().get_template("report.html.j2").render(**view)
