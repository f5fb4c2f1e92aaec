"""Numbers and values as a reader sees them: 2 decimals for scores, 3 significant digits for coefficients,
thousands separators for money; never a raw dict. The JSON keeps full precision."""

from __future__ import annotations

import math
from typing import Any

from dc_pipeline.domain.reports.insights import format_number

_SCORE_WORDS = (
    "score",
    "dc",
    "mean",
    "median",
    "min",
    "max",
    "gap",
    "contribution",
    "shortfall",
    "share",
    "equity",
    "value",
    "current",
    "target",
    "delta",
    "fence",
    "q1",
    "q3",
    "iqr",
    "leader",
)
MAX_LIST = 12


def number(value: float, kind: str = "auto", key: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) or kind == "count":
        return f"{int(value):,}"
    v = float(value)
    if kind == "money" or (kind == "auto" and abs(v) >= 1000):
        return format_number(v, 0, grouping=True)
    if kind == "score" or (kind == "auto" and any(w in key.lower() for w in _SCORE_WORDS)):
        return format_number(v, 2)
    if kind == "percent":
        return format_number(v, 1) + " %"
    if v == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(v)))))
    return format_number(v, min(digits, 6)) if abs(v) >= 1e-4 else f"{v:.2e}"


def cell(value: Any, key: str = "") -> str:
    """Display text of one table cell."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float)):
        return number(value, key=key)
    if isinstance(value, list):
        shown = ", ".join(cell(v, key) for v in value[:MAX_LIST])
        return shown + (f", … ({len(value)} in all)" if len(value) > MAX_LIST else "")
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell(v, k)}" for k, v in value.items())
    return str(value)


def is_records(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return isinstance(value, dict) and bool(value) and all(isinstance(v, dict) for v in value.values())


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and not is_records(v) and len(v) <= 8:
            out.update(_flat(v, name + " "))
        elif not is_records(v):
            out[name] = v
    return out


def tables(title: str, value: Any, depth: int = 0) -> list[dict[str, Any]]:
    """Tables of one block: scalars as field/value, records (dict or list of dicts) as rows; nested records
    become their own tables (at most 3 levels)."""
    out: list[dict[str, Any]] = []
    if is_records(value):
        items = list(value.items()) if isinstance(value, dict) else list(enumerate(value, start=1))
        flat = [(k, _flat(r)) for k, r in items]
        columns = list(dict.fromkeys(c for _, r in flat for c in r))
        key_col = [] if isinstance(value, list) else ["key"]
        out.append(
            {
                "title": title,
                "header": key_col + columns,
                "rows": [([str(k)] if key_col else []) + [cell(r.get(c), c) for c in columns] for k, r in flat],
            }
        )
        if depth < 2:
            for k, r in items:
                for sub, v in r.items():
                    if is_records(v):
                        out += tables(f"{title} / {k} / {sub}", v, depth + 1)
        return out
    if isinstance(value, dict):
        scalars = _flat({k: v for k, v in value.items() if not is_records(v)})
        if scalars:
            out.append(
                {"title": title, "header": ["field", "value"], "rows": [[k, cell(v, k)] for k, v in scalars.items()]}
            )
        if depth < 3:
            for k, v in value.items():
                if is_records(v):
                    out += tables(f"{title} / {k}", v, depth + 1)
    return out
