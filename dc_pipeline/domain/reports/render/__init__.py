"""HTML and Markdown pages of an envelope (SPEC §7.1), rendered with jinja2 templates."""

from dc_pipeline.domain.reports.render.html import render_html
from dc_pipeline.domain.reports.render.markdown import render_markdown

__all__ = ["render_html", "render_markdown"]
