"""JSON-native values and RFC 6901 JSON pointers for report envelopes."""

from __future__ import annotations

from typing import Any

import pandas as pd


class PointerError(LookupError):
    """A JSON pointer does not resolve; the message names the failing token."""


def pointer_token(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def join_pointer(*parts: Any) -> str:
    return "".join("/" + pointer_token(p) for p in parts)


def resolve_pointer(document: Any, pointer: str) -> Any:
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise PointerError(f"pointer {pointer!r} does not start with '/'")
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            if token not in node:
                raise PointerError(f"pointer {pointer!r}: key {token!r} not found")
            node = node[token]
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise PointerError(f"pointer {pointer!r}: index {token!r} out of range ({len(node)} items)")
            node = node[int(token)]
        else:
            raise PointerError(f"pointer {pointer!r}: cannot descend into a {type(node).__name__} at {token!r}")
    return node


def iso_date(value: Any) -> str:
    return pd.Timestamp(value).date().isoformat()
