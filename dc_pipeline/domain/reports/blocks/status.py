"""The status shapes of an analysis block (SPEC §7.1): ok, insufficient_data / missing_input, skipped_by_depth."""

from __future__ import annotations

from typing import Any

UNAVAILABLE = ("insufficient_data", "missing_input")


def ok_block(**values: Any) -> dict[str, Any]:
    return {"status": "ok", "reason": None, **values}


def unavailable_block(
    status: str, reason_text: str, observed: Any = None, required: Any = None, **values: Any
) -> dict[str, Any]:
    """insufficient_data / missing_input, naming observed and required counts."""
    if status not in UNAVAILABLE:
        raise ValueError(f"unavailable block status must be one of {UNAVAILABLE}, not {status!r}")
    return {"status": status, "reason": reason_text, "observed": observed, "required": required, **values}


def insufficient(reason_text: str, observed: Any, required: Any, **values: Any) -> dict[str, Any]:
    return unavailable_block("insufficient_data", reason_text, observed, required, **values)


def skipped_block(depth: str, needed: str) -> dict[str, Any]:
    return {"status": "skipped_by_depth", "reason": f"produced at analysis_depth {needed} (requested: {depth})"}


def is_ok(block: dict[str, Any] | None) -> bool:
    return isinstance(block, dict) and block.get("status") == "ok"
