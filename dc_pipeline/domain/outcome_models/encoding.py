"""Feature encoding for the outcome models: standardised scores plus optional brand one-hot.

A small transformer instead of ColumnTransformer: the frames are a few hundred rows and are
refitted thousands of times (folds x trials x bootstrap), where ColumnTransformer's overhead
dominated the run time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class ScoreEncoder(TransformerMixin, BaseEstimator):
    """Standardises `numeric` columns (mean 0, sd 1; sd 0 -> 1) and, with `brand_fe`, appends one
    0/1 indicator per training brand (a brand unseen in training gets all zeros)."""

    def __init__(self, numeric: tuple[str, ...] = ("dc",), brand_fe: bool = False):
        self.numeric = numeric
        self.brand_fe = brand_fe

    def fit(self, x: pd.DataFrame, y=None):
        values = x[list(self.numeric)].to_numpy(dtype=float)
        self.mean_ = values.mean(axis=0)
        sd = values.std(axis=0)
        self.scale_ = np.where(sd > 0, sd, 1.0)
        self.brands_ = np.sort(x["brand_id"].unique()) if self.brand_fe else np.array([])
        self.feature_names_in_ = np.array([*self.numeric, *(["brand_id"] if self.brand_fe else [])], dtype=object)
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        scaled = (x[list(self.numeric)].to_numpy(dtype=float) - self.mean_) / self.scale_
        if not self.brand_fe:
            return scaled
        dummies = (x["brand_id"].to_numpy()[:, None] == self.brands_[None, :]).astype(float)
        return np.hstack([scaled, dummies])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array([*self.numeric, *(f"brand_id_{b}" for b in self.brands_)], dtype=object)

    def numeric_scales(self) -> dict[str, float]:
        return dict(zip(self.numeric, self.scale_))
