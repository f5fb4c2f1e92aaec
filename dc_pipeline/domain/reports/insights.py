"""Insights and recommendations whose numbers come only from cited figures (SPEC §7.1).

`insight()` formats every number of its text from a figure, so each number in the text is a
rounding of a figure value; `check_insights_cite_numbers()` verifies that independently.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from dc_pipeline.domain.reports.json_values import PointerError, resolve_pointer


@dataclass(frozen=True)
class Figure:
    name: str
    value: Any  # int | float | str | None
    path: str
    decimals: int = 1
    signed: bool = False  # show '+' on positive numbers

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "path": self.path}


def format_number(value: float, decimals: int, signed: bool = False, grouping: bool = False) -> str:
    """Deterministic fixed-point text; never '-0.0'."""
    text = f"{value:{'+' if signed else ''}{',' if grouping else ''}.{decimals}f}"
    if float(text.replace(",", "")) == 0:
        text = ("+" if signed else "") + text.lstrip("+-")
    return text


def format_figure(figure: Figure) -> str:
    if isinstance(figure.value, str):
        return figure.value
    if figure.value is None:
        return "n/a"
    return format_number(
        float(figure.value), figure.decimals, figure.signed, grouping=abs(float(figure.value)) >= 10_000
    )


def cite(root: dict, name: str, path: str, decimals: int = 1, signed: bool = False) -> Figure:
    """A figure whose value is read from `root` at `path`, so path and value cannot disagree."""
    return Figure(name, resolve_pointer(root, path), path, decimals, signed)


def _render(template: str, figures: list[Figure]) -> str:
    return template.format(**{f.name: format_figure(f) for f in figures})


def _priority(value: float) -> float:
    return round(min(1.0, max(0.0, float(value))), 4) if math.isfinite(value) else 0.0


def insight(id: str, template: str, figures: list[Figure], priority: float) -> dict[str, Any]:
    return {
        "id": id,
        "text": _render(template, figures),
        "figures": [f.as_json() for f in figures],
        "priority": _priority(priority),
    }


def recommendation(
    id: str,
    template: str,
    figures: list[Figure],
    *,
    brand_id: int | None,
    section: str | None,
    expected_delta_dc: float | None,
    effort: float | None,
    source: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id,
        "text": _render(template, figures),
        "brand_id": brand_id,
        "section": section,
        "expected_delta_dc": expected_delta_dc,
        "effort": effort,
        "figures": [f.as_json() for f in figures],
        "source": source,
        **extra,
    }


def renumber(items: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [{**item, "id": f"{prefix}{i}"} for i, item in enumerate(items, start=1)]


# A number not glued to a word (so "Q3", "I1" are not numbers), with an optional sign.
_NUMBER = re.compile(r"(?<![\w.])([+\-\u2212]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?!\d)")


def _numbers_in(text: str) -> list[tuple[str, str, int]]:
    """(sign, unsigned digits without grouping, decimals) per number in text."""
    return [
        (sign.replace("\u2212", "-"), (whole + (frac or "")).replace(",", ""), len(frac) - 1 if frac else 0)
        for sign, whole, frac in _NUMBER.findall(text)
    ]


def _is_rounding(sign: str, digits: str, decimals: int, value: float) -> bool:
    if sign:
        return format_number(value, decimals, signed=True) == sign + digits
    return format_number(abs(value), decimals) == digits


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _check_item(envelope: dict, where: str, item: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    figures = item.get("figures") or []
    text = str(item.get("text", ""))
    # String figures (brand, metric, period names) may contain digits; they are cited, not numbers.
    for fig in sorted((f for f in figures if isinstance(f.get("value"), str)), key=lambda f: -len(f["value"])):
        text = text.replace(fig["value"], " ")
    numeric = [
        float(f["value"])
        for f in figures
        if isinstance(f.get("value"), (int, float)) and not isinstance(f.get("value"), bool)
    ]
    for sign, digits, decimals in _numbers_in(text):
        if not any(_is_rounding(sign, digits, decimals, v) for v in numeric):
            problems.append(f"{where}: number {sign}{digits} in text is not a rounding of any cited figure")
    for fig in figures:
        try:
            found = resolve_pointer(envelope, fig.get("path", ""))
        except PointerError as exc:
            problems.append(f"{where}: figure {fig.get('name')!r} path does not resolve: {exc}")
            continue
        if not _same_value(found, fig.get("value")):
            problems.append(
                f"{where}: figure {fig.get('name')!r} value {fig.get('value')!r} differs from "
                f"{found!r} at {fig.get('path')}"
            )
    return problems


def check_insights_cite_numbers(envelope: dict) -> list[str]:
    """Problems with key insights and recommendations; [] when every number is cited and every path resolves."""
    problems: list[str] = []
    for kind in ("key_insights", "strategic_recommendations"):
        for item in envelope.get(kind) or []:
            problems += _check_item(envelope, f"{kind} {item.get('id')}", item)
    return problems
