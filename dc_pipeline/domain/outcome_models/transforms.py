"""Target transforms of SPEC §6a and their conversion back to original units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_TARGETS = frozenset({"revenue", "sales_units", "marketing_spend", "customer_lifetime_value", "bestseller_rank"})
LOGIT_PCT_TARGETS = frozenset({"market_share", "conversion_rate"})

# Percentages of exactly 0 or 100 have no logit; they are pulled this far inside the interval.
_LOGIT_EPS = 1e-4


# Module-level functions (not lambdas) so a fitted TransformedTargetRegressor pickles with joblib.
def logit_pct(y):
    p = np.clip(np.asarray(y, dtype=float) / 100.0, _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(p / (1 - p))


def inv_logit_pct(z):
    return 100.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


def identity(y):
    return np.asarray(y, dtype=float)


@dataclass(frozen=True)
class TargetTransform:
    name: str  # 'log' | 'log1p' | 'logit_pct' | 'identity'

    @property
    def functions(self):
        """(func, inverse_func) for sklearn's TransformedTargetRegressor."""
        return {
            "log": (np.log, np.exp),
            "log1p": (np.log1p, np.expm1),
            "logit_pct": (logit_pct, inv_logit_pct),
            "identity": (identity, identity),
        }[self.name]

    def forward(self, y) -> np.ndarray:
        return self.functions[0](np.asarray(y, dtype=float))

    def original_per_transformed(self, y_original: float) -> float:
        """d(original)/d(transformed) at an original-scale value: turns a slope on the transformed
        scale into original units at that point (SPEC: converted at the mean)."""
        if self.name == "log":
            return float(y_original)
        if self.name == "log1p":
            return float(y_original) + 1.0
        if self.name == "logit_pct":
            p = float(np.clip(y_original / 100.0, _LOGIT_EPS, 1 - _LOGIT_EPS))
            return 100.0 * p * (1 - p)
        return 1.0


def transform_for(target: str, y: np.ndarray) -> TargetTransform:
    """Log targets with a zero (revenue and units may be 0) fall back to log1p."""
    if target in LOG_TARGETS:
        return TargetTransform("log" if np.all(np.asarray(y, dtype=float) > 0) else "log1p")
    if target in LOGIT_PCT_TARGETS:
        return TargetTransform("logit_pct")
    return TargetTransform("identity")
