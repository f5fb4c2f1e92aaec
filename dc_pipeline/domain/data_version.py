"""Data versions (SPEC §0): sha256 over a frame's canonical rows, so equal content gives an equal version
whatever the row order."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def frame_data_version(frame: pd.DataFrame) -> str:
    """`sha256:<hex>` over the frame's canonical rows (sorted columns, order-independent rows)."""
    if frame.empty:
        return "sha256:" + hashlib.sha256(b"empty:" + ",".join(sorted(frame.columns)).encode()).hexdigest()
    ordered = frame[sorted(frame.columns)]
    hashable = ordered.astype({c: str for c in ordered.columns if ordered[c].dtype == object})
    row_hashes = np.sort(pd.util.hash_pandas_object(hashable, index=False).to_numpy())
    digest = hashlib.sha256(",".join(sorted(frame.columns)).encode())
    digest.update(row_hashes.tobytes())
    return "sha256:" + digest.hexdigest()


def version_hex(frame: pd.DataFrame) -> str:
    """The hex part of a frame's data version (what study names and the model registry keep)."""
    return frame_data_version(frame).split(":", 1)[1]


def combined_version(*versions: str) -> str:
    """One version over several (e.g. the tables of a multi-table asset)."""
    return hashlib.sha256("".join(sorted(versions)).encode()).hexdigest()
