"""One memo idiom for the per-report, per-project and per-run stores."""

from __future__ import annotations

from collections.abc import Callable, Hashable, MutableMapping
from typing import TypeVar

T = TypeVar("T")


def remembered(store: MutableMapping, key: Hashable, build: Callable[[], T]) -> T:
    """`store[key]`, set to `build()` the first time it is asked for."""
    if key not in store:
        store[key] = build()
    return store[key]
