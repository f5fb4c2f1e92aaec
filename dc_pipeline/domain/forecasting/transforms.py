"""Modelling scale of a forecast series (SPEC §6b "Transforms").

Scores are modelled as logit(clip(x, 0.5, 99.5) / 100) so every back-transformed forecast and
interval stays inside [0, 100]; positive outcomes are modelled on the log scale so they stay > 0.
Quantiles survive a monotone back-transform, so intervals are built on the model scale and mapped
back point by point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

SeriesKind = Literal["score", "positive", "real"]

SCORE_CLIP = (0.5, 99.5)


@dataclass(frozen=True)
class Transform:
    kind: SeriesKind
    # Smallest value a 'positive' series is modelled with: log(0) is undefined, so zeros are
    # lifted to half the smallest observed positive value (make_transform sets it).
    log_floor: float = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self.kind == "score":
            p = np.clip(x, *SCORE_CLIP) / 100.0
            return np.log(p / (1.0 - p))
        if self.kind == "positive":
            return np.log(np.maximum(x, self.log_floor))
        return x.copy()

    def inverse(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        if self.kind == "score":
            # 100 * sigmoid(z) written to avoid overflow for large |z|; the clip only absorbs
            # floating-point rounding at the ends.
            return np.clip(100.0 * 0.5 * (1.0 + np.tanh(z / 2.0)), 0.0, 100.0)
        if self.kind == "positive":
            return np.exp(np.clip(z, -700.0, 700.0))
        return z.copy()


def make_transform(kind: SeriesKind, observed: np.ndarray) -> Transform:
    """The transform for a series kind, fitted to its observed (finite) values."""
    if kind not in ("score", "positive", "real"):
        raise ValueError(f"unknown series kind {kind!r}; expected 'score', 'positive' or 'real'")
    if kind != "positive":
        return Transform(kind)
    observed = np.asarray(observed, dtype=float)
    negative = int((observed < 0).sum())
    if negative:
        raise ValueError(f"a 'positive' series has {negative} negative values; use kind='real'")
    positive = observed[observed > 0]
    if not positive.size:
        raise ValueError(f"a 'positive' series has no positive value ({observed.size} zeros)")
    return Transform(kind, log_floor=float(positive.min()) / 2.0)
