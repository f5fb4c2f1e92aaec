"""What a report figure is about, read from the envelope itself: the brand, period, section and metric named along
its JSON pointer (brand-keyed objects, `brand_id` / `period` / `section` / `metric_id` fields of the objects it sits
in). A pointer to an insight's or recommendation's figure is followed to the analysis value it cites."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dc_pipeline.domain.reports.json_values import PointerError, pointer_token, resolve_pointer
from dc_pipeline.domain.source_tables import SECTIONS

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class About:
    pointer: str  # where the value is (the analysis path a cited figure points to)
    value: Any
    brand_id: int | None = None
    period: str | None = None  # ISO date
    section: str | None = None
    metric_id: int | None = None
    cited_from: str | None = None  # the insight/recommendation figure the pointer named, when followed

    @property
    def tokens(self) -> list[str]:
        return _tokens(self.pointer)


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")] if pointer else []


def _cited_path(envelope: dict, pointer: str) -> str | None:
    """The analysis path of an insight or recommendation figure named by `pointer` (the figure or its value)."""
    tokens = _tokens(pointer)
    if len(tokens) < 4 or tokens[0] not in ("key_insights", "strategic_recommendations") or tokens[2] != "figures":
        return None
    figure = resolve_pointer(envelope, "/" + "/".join(pointer_token(t) for t in tokens[:4]))
    return figure.get("path") if isinstance(figure, dict) and tokens[4:] in ([], ["value"]) else None


def figure_about(envelope: dict, pointer: str) -> About:
    """The value at `pointer` and what it is about; PointerError when the pointer does not resolve."""
    resolve_pointer(envelope, pointer)
    cited = _cited_path(envelope, pointer)
    path = cited or pointer
    value = resolve_pointer(envelope, path)
    brands = {int(b) for b in (envelope.get("data_context") or {}).get("brands_analyzed") or []}
    found: dict[str, Any] = {}
    node: Any = envelope
    for token in _tokens(path):
        if isinstance(node, dict):
            _note_fields(node, found)
            if token.isdigit() and int(token) in brands:
                found["brand_id"] = int(token)
            elif token in SECTIONS:
                found["section"] = token
            node = node[token]
        elif isinstance(node, list):
            node = node[int(token)]
        else:  # resolve_pointer above guarantees the path descends
            raise PointerError(f"pointer {path!r} cannot descend at {token!r}")
    return About(pointer=path, value=value, cited_from=pointer if cited else None, **found)


def _note_fields(node: dict, found: dict[str, Any]) -> None:
    """The brand, period, section and metric an object of the envelope states about itself (innermost wins)."""
    if isinstance(node.get("brand_id"), int):
        found["brand_id"] = node["brand_id"]
    if isinstance(node.get("period"), str) and _ISO_DATE.match(node["period"]):
        found["period"] = node["period"]
    for key in ("section", "section_name"):
        if node.get(key) in SECTIONS:
            found["section"] = node[key]
    if isinstance(node.get("metric_id"), int):
        found["metric_id"] = node["metric_id"]
