"""Frames a run wrote, handed to its own later steps instead of being read back from Postgres.

With the in-process executor a later step of the same run reads the table a step has just written, for the
same partitions: the rows read back are the frame just written (the run holds the partitions' locks). The IO
manager keeps the frame (a reference, no copy) until its readers in the run have taken it; a reader gets it
typed as a read of the table types it (`copy_csv.typed_as_read`), cut to the partitions and columns it asks
for. Where a column's round trip is not mirrored there, the reader reads the table as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from dc_pipeline.adapters.copy_csv import typed_as_read


@dataclass
class _Kept:
    where: tuple  # the partition filter it was written for, canonical (_canonical)
    frame: pd.DataFrame
    types: dict[str, str]  # the table's columns but the run columns, in its order -> Postgres type
    readers: int


def _canonical(where: Mapping[str, Iterable]) -> tuple:
    return tuple(sorted((column, tuple(sorted(values))) for column, values in where.items()))


class HandOff:
    """The frame last written to each table in this run, until the `readers` later steps that read the table have
    asked for it (one that asks for other partitions reads the table, and its turn counts too)."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    def keep(
        self, table: str, where: Mapping[str, Iterable], frame: pd.DataFrame, types: dict[str, str], readers: int
    ) -> None:
        self._kept.pop(table, None)
        if readers > 0:
            self._kept[table] = _Kept(_canonical(where), frame, types, readers)

    def take(self, table: str, where: Mapping[str, Iterable], columns: Sequence[str] | None) -> pd.DataFrame | None:
        """The rows of `table` matching `where`, only `columns` (those it has) when given; None when not kept."""
        kept = self._kept.get(table)
        if kept is None:
            return None
        kept.readers -= 1
        if kept.readers <= 0:
            del self._kept[table]
        if kept.where != _canonical(where):
            return None
        wanted = {c: t for c, t in kept.types.items() if columns is None or c in columns}
        frame = kept.frame
        if not wanted or any(column not in frame.columns for column in where):
            return None
        inside = pd.Series(True, index=frame.index)
        for column, values in where.items():
            inside &= frame[column].isin(list(values))
        return typed_as_read(frame if bool(inside.all()) else frame[inside], wanted)

    def clear(self) -> None:
        self._kept.clear()
