"""Modelling frame and feature sets of the score->outcome models (SPEC §6a)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import SECTIONS

FEATURE_SETS: tuple[str, ...] = ("dc", "sections", "dc_lag1")
DC_LAG1_MIN_PERIODS = 3


def feature_columns(feature_set: str) -> list[str]:
    if feature_set == "dc":
        return ["dc"]
    if feature_set == "sections":
        return list(SECTIONS)
    if feature_set == "dc_lag1":
        return ["dc", "dc_lag1"]
    raise ValueError(f"unknown feature set {feature_set!r}; expected one of {FEATURE_SETS}")


def available_feature_sets(n_periods: int) -> list[str]:
    return [fs for fs in FEATURE_SETS if fs != "dc_lag1" or n_periods >= DC_LAG1_MIN_PERIODS]


@dataclass
class ModelFrame:
    """Rows with both DC and the target, sorted by (period, brand_id), positional index."""

    data: pd.DataFrame  # brand_id, period, dc, <SECTIONS>, dc_lag1, target
    target: str
    n_sections_imputed: int
    n_lag_imputed: int

    @property
    def n_obs(self) -> int:
        return len(self.data)

    @property
    def n_periods(self) -> int:
        return int(self.data["period"].nunique())

    @property
    def n_brands(self) -> int:
        return int(self.data["brand_id"].nunique())

    def y(self) -> np.ndarray:
        return self.data[self.target].to_numpy(dtype=float)


def build_model_frame(obs: pd.DataFrame, target: str) -> ModelFrame:
    """dc_lag1 is the brand's DC at its previous observed period, taken before rows without the
    target are dropped (a missing outcome does not hide last period's score)."""
    missing = [c for c in ("brand_id", "period", "dc", *SECTIONS, target) if c not in obs.columns]
    if missing:
        raise ValueError(f"observations lack columns {missing}")
    frame = obs[["brand_id", "period", "dc", *SECTIONS, target]].copy()
    frame["period"] = pd.to_datetime(frame["period"])
    for col in ("dc", *SECTIONS, target):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["dc"])].sort_values(["brand_id", "period"], kind="stable")
    frame["dc_lag1"] = frame.groupby("brand_id")["dc"].shift(1)
    frame = frame[np.isfinite(frame[target])]

    # Imputation keeps every feature set scored on the same rows, so their CV errors compare:
    # a brand's first period carries its own DC as lag (no change), and a missing section takes
    # the brand-period DC, the mean of its defined sections under equal weights.
    n_lag = int(frame["dc_lag1"].isna().sum())
    frame["dc_lag1"] = frame["dc_lag1"].fillna(frame["dc"])
    sections = frame[list(SECTIONS)]
    n_sections = int(sections.isna().sum().sum())
    frame[list(SECTIONS)] = sections.apply(lambda col: col.fillna(frame["dc"]))

    frame = frame.sort_values(["period", "brand_id"], kind="stable").reset_index(drop=True)
    return ModelFrame(frame, target, n_sections, n_lag)
