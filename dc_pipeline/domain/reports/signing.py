"""Canonical JSON of an envelope and its HMAC-SHA256 signature (SPEC §7.1, §10 SECRET_KEY)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

PREFIX = "hmac-sha256:"
DEV_MARKER = "dev:"  # signatures made with the fixed development key say so


def canonical_json(envelope: dict[str, Any]) -> str:
    """Sorted keys, compact separators, no NaN, `system_metadata.signature` removed."""
    body = copy.deepcopy(envelope)
    meta = body.get("system_metadata")
    if isinstance(meta, dict):
        meta.pop("signature", None)
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sign(envelope: dict[str, Any], key: bytes, dev: bool) -> str:
    if not key:
        raise ValueError("signing key is empty: set SECRET_KEY (required when DC_ENV=prod)")
    digest = hmac.new(key, canonical_json(envelope).encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + (DEV_MARKER if dev else "") + digest


def with_signature(envelope: dict[str, Any], key: bytes, dev: bool) -> dict[str, Any]:
    signed = copy.deepcopy(envelope)
    signed.setdefault("system_metadata", {})["signature"] = sign(envelope, key, dev)
    return signed


def verify_signature(envelope: dict[str, Any], key: bytes) -> bool:
    stated = (envelope.get("system_metadata") or {}).get("signature")
    if not isinstance(stated, str) or not stated.startswith(PREFIX):
        return False
    dev = stated[len(PREFIX) :].startswith(DEV_MARKER)
    return hmac.compare_digest(stated, sign(envelope, key, dev))
