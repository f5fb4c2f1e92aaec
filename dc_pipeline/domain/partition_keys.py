"""Partition key spelling (SPEC §0): projects `p<id>`, brands `b<id>`."""

from __future__ import annotations

import re

_PROJECT = re.compile(r"^p(\d+)$")
_BRAND = re.compile(r"^b(\d+)$")


def project_key(project_id: int) -> str:
    return f"p{int(project_id)}"


def brand_key(brand_id: int) -> str:
    return f"b{int(brand_id)}"


def project_id_of(key: str) -> int:
    match = _PROJECT.match(key)
    if not match:
        raise ValueError(f"not a project partition key: {key!r} (expected p<project_id>, e.g. p101)")
    return int(match.group(1))


def brand_id_of(key: str) -> int:
    match = _BRAND.match(key)
    if not match:
        raise ValueError(f"not a brand partition key: {key!r} (expected b<brand_id>, e.g. b3)")
    return int(match.group(1))
