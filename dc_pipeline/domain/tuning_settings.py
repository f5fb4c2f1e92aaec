"""The tuning budget and study names (SPEC §6d), without importing Optuna: the Dagster wiring reads these when
the code location loads; studies are opened in domain/tuning.py."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Literal

SamplerName = Literal["TPE", "CMAES", "RANDOM", "AUTO"]
PrunerName = Literal["median", "successive_halving", "none"]


@dataclass(frozen=True)
class TuningSettings:
    n_trials: int = 100
    timeout_s: float = 300.0
    n_jobs: int = 1
    sampler: SamplerName = "TPE"
    pruner: PrunerName = "median"
    patience: int = 30

    def resolved_n_jobs(self) -> int:
        return (os.cpu_count() or 1) if self.n_jobs == -1 else max(1, self.n_jobs)


def study_seed(study_name: str) -> int:
    """Seed = sha256(study_name) mod 2^31, so a study's sampler is reproducible by name."""
    return int.from_bytes(hashlib.sha256(study_name.encode()).digest()[:8], "big") % (2**31)


def study_name(kind: str, project: int | str, brand: int | str | None, target: str, data_version: str) -> str:
    brand_part = "all" if brand is None else str(brand)
    return f"{kind}|{project}|{brand_part}|{target}|{data_version[:12]}"
