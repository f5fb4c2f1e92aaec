"""One project's metric layout: which metric sits on which platform and section (SPEC §12 "Metrics")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.demo.generator.spec import METRIC_VOCABULARY, MINIMIZE_METRICS, PLATFORMS, SECTION_VOCABULARY
from dc_pipeline.domain.source_tables import SECTIONS


def metric_layout(metrics_per_platform: int) -> pd.DataFrame:
    """(section_name, platform_name, metric_name, metric_type) of one project's metrics.

    Platform q of a section takes `metrics_per_platform` consecutive names of the section's own
    vocabulary (rotated by q), continuing into the rest of the 16 names when the section has fewer.
    """
    if not 1 <= metrics_per_platform <= len(METRIC_VOCABULARY):
        raise ValueError(f"metrics_per_platform must be in [1, {len(METRIC_VOCABULARY)}]")
    rows = []
    for section in SECTIONS:
        own = SECTION_VOCABULARY[section]
        names = own + tuple(n for n in METRIC_VOCABULARY if n not in own)
        for q, platform in enumerate(PLATFORMS[section]):
            for j in range(metrics_per_platform):
                name = names[(q + j) % len(names)]
                rows.append((section, platform, name, "minimize" if name in MINIMIZE_METRICS else "maximize"))
    return pd.DataFrame(rows, columns=["section_name", "platform_name", "metric_name", "metric_type"])


@dataclass(frozen=True)
class MetricLayout:
    """The layout frame plus the index arrays the vectorised steps use."""

    frame: pd.DataFrame
    platform_of: np.ndarray  # (M,) platform index of each metric
    section_of_platform: np.ndarray  # (P,) section index of each platform
    section_of_metric: np.ndarray  # (M,)
    minimize: np.ndarray  # (M,) bool

    @property
    def n_metrics(self) -> int:
        return len(self.frame)

    @classmethod
    def build(cls, metrics_per_platform: int) -> MetricLayout:
        frame = metric_layout(metrics_per_platform)
        plat_names = [(s, p) for s in SECTIONS for p in PLATFORMS[s]]
        platform_of = np.array([plat_names.index((s, p)) for s, p in zip(frame.section_name, frame.platform_name)])
        section_of_platform = np.array([SECTIONS.index(s) for s, _ in plat_names])
        minimize = (frame.metric_type == "minimize").to_numpy()
        return cls(frame, platform_of, section_of_platform, section_of_platform[platform_of], minimize)
