"""The Markdown page: same content as the HTML; each chart becomes a table of its data and a link to its
HTML figure. Every data-supplied string is escaped (summary.md_escape)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader

from dc_pipeline.domain.reports.charts.tables import figure_table
from dc_pipeline.domain.reports.render.display import cell
from dc_pipeline.domain.reports.render.page import page_view
from dc_pipeline.domain.reports.summary import md_escape


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("dc_pipeline.domain.reports.render", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    env.filters["cell"] = lambda v: md_escape(cell(v))
    return env


def render_markdown(envelope: dict[str, Any], html_href: str = "latest.html") -> str:
    view = page_view(envelope)
    for chart in view["charts"]:
        chart["header"], chart["rows"] = figure_table(chart["viz"])
    return (
        _environment()
        .get_template("report.md.j2")
        .render(**view, summary=envelope.get("executive_summary", ""), html_href=html_href)
    )
