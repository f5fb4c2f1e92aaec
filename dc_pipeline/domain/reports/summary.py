"""The executive summary (SPEC §7.1): Markdown from the headline insights, the health status with its
reasons, DQ band, confidence and what could not be computed. Text that comes from the data (brand,
project and metric names inside insights and reasons) is escaped, so it renders as plain text."""

from __future__ import annotations

import re
from typing import Any

from dc_pipeline.domain.reports.insights import format_number

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~])")


def md_escape(text: Any) -> str:
    """Inert Markdown: backslash-escapes Markdown punctuation and '<' '>', newlines become spaces."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def _fmt(value: Any, decimals: int = 2) -> str:
    return "n/a" if value is None else format_number(float(value), decimals)


def executive_summary(envelope: dict[str, Any], n_headlines: int = 3) -> str:
    state = envelope.get("health") or {}
    lines = [f"**Health: {state.get('status')}**"]
    lines += [f"- {md_escape(r['message'])}" for r in state.get("reasons") or []]
    context = envelope.get("data_context") or {}
    dq = context.get("data_quality") or {}
    if dq.get("status") == "missing_input":
        lines += ["", f"**Data quality:** not available ({md_escape(dq.get('reason'))})"]
    else:
        lines += ["", f"**Data quality:** {dq.get('band')} (score {_fmt(dq.get('score'), 3)})"]
    conf = context.get("confidence") or {}
    lines.append(
        f"**Confidence:** {_fmt(conf.get('value'))} = DQ {_fmt(conf.get('dq'))} x adequacy "
        f"{_fmt(conf.get('adequacy'))} x validation {_fmt(conf.get('validation'))}"
    )
    headlines = sorted(envelope.get("key_insights") or [], key=lambda i: -i["priority"])[:n_headlines]
    if headlines:
        lines += ["", "**Headlines**", ""] + [f"- {md_escape(i['text'])}" for i in headlines]
    stated = {r["message"] for r in state.get("reasons") or []}
    gaps = [
        f"- {md_escape(name)}: {md_escape(block.get('reason'))}"
        for name, block in (envelope.get("analysis") or {}).items()
        if isinstance(block, dict)
        and block.get("status") in ("insufficient_data", "missing_input")
        and f"{name}: {block.get('reason')}" not in stated
    ]
    gaps += [f"- missing input: {md_escape(m)}" for m in context.get("missing_inputs") or []]
    if gaps:
        lines += ["", "**Not computed**", ""] + gaps
    return "\n".join(lines) + "\n"
