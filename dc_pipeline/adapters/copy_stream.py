"""The CSV that `COPY ... TO STDOUT (FORMAT csv, HEADER true)` sends, parsed piece by piece as it arrives.

Holding the whole CSV text and parsing it at once cost a landing of 0.8 M value rows 456 MiB (memray), 3x the
deep size of the frame it returned: the text, and the parser's tokens and column buffers for every row at once.
Here the text is cut into pieces of about PIECE_BYTES at row boundaries (a newline outside quotes: Postgres
doubles a quote inside a quoted value, so a newline ends a row exactly when the quotes before it are even in
number), each piece is parsed with the header in front by `frame_from_copy_csv` as the whole text was, and the
typed pieces are concatenated. Only column types whose parse does not depend on the other rows are read this way
(`streamable`); the frame is the one the whole-text parse returns (dc_pipeline_tests/adapters/test_copy_stream.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

import pandas as pd

from dc_pipeline.adapters.copy_csv import frame_from_copy_csv, pandas_dtypes

PIECE_BYTES = 4 << 20
# Types `frame_from_copy_csv` converts value by value (or reads with a fixed dtype), so a piece parses alone as
# it would inside the whole text; others (uuid, arrays, intervals) are inferred from all rows: parsed whole.
_CONVERTED = ("date", "timestamp with time zone", "timestamp without time zone")


def streamable(types: Mapping[str, str], parse_dates: Sequence[str] = ()) -> bool:
    mapped = pandas_dtypes(types)
    return not parse_dates and all(c in mapped or t in _CONVERTED for c, t in types.items())


def frame_from_copy_stream(
    chunks: Iterable[bytes], types: Mapping[str, str], piece_bytes: int = PIECE_BYTES
) -> pd.DataFrame:
    """The rows of the COPY output `chunks` (CSV with a header) typed by `types`, as `frame_from_copy_csv`
    reads the whole text; an empty frame with the columns when the output is empty."""
    frames: list[pd.DataFrame] = []
    header = None
    rows = 0
    for piece in _pieces(chunks, piece_bytes):
        if header is None:
            end = _row_end(piece)
            header, piece = piece[:end], piece[end:]
        if piece or not frames:  # a header alone reads as the empty typed frame; only when nothing else came
            frames.append(frame_from_copy_csv(io.BytesIO(header + piece), types, first_row=rows + 1))
            rows += len(frames[-1])
    if len(frames) > 1 and not len(frames[0]):
        frames.pop(0)
    if not frames:
        return pd.DataFrame(columns=list(types))
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _pieces(chunks: Iterable[bytes], piece_bytes: int) -> Iterator[bytes]:
    """The text in pieces of at least `piece_bytes` (the last one shorter) that end at a row boundary."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        if len(pending) >= piece_bytes:
            cut = _last_row_end(pending)
            if cut:
                yield bytes(pending[:cut])
                del pending[:cut]
    if pending:
        yield bytes(pending)


def _last_row_end(text: bytearray) -> int:
    """The offset just after the last newline outside quotes (0: none yet); `text` starts at a row boundary."""
    newline = text.rfind(b"\n")
    while newline >= 0:
        if text.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
        newline = text.rfind(b"\n", 0, newline)
    return 0


def _row_end(text: bytes) -> int:
    """The offset just after the first row (the header: column names, quoted when they need it)."""
    newline = text.find(b"\n")
    while newline >= 0 and text.count(b'"', 0, newline) % 2:
        newline = text.find(b"\n", newline + 1)
    return len(text) if newline < 0 else newline + 1
