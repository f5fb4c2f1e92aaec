"""What a report builder computes from: the (brand-scoped) data, the parameters and derived views.

The panel has one row per brand-period of the time line up to the project's latest scored period
(domain/observations.py); builders read series from it and latest-period detail from `data.scores`.

`views`: the reports of one project built from the same inputs (a report run, data.report_data_from_frames with
`cuts`) share one dict, so the panel and its derived views are computed once per project, not once per report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.memo import remembered
from dc_pipeline.domain.panels import outcome_observations
from dc_pipeline.domain.reports.blocks.trend import period_numbers
from dc_pipeline.domain.reports.catalog import ReportSpec
from dc_pipeline.domain.reports.data import ReportData
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS


@dataclass(frozen=True)
class AnalysisSettings:
    """System settings a report reads (analysis_config and random_seed of SPEC §10)."""

    min_data_points: int = 10
    seed: int = 42


@dataclass
class ReportContext:
    data: ReportData
    params: ReportParams
    spec: ReportSpec
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    views: dict[Any, Any] | None = field(default=None, repr=False)  # shared by the project's reports (see above)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """`build()` once per report build (e.g. stored model rows grouped by brand, read by many blocks)."""
        return remembered(self._memo, key, build)

    def _stored(self, key: tuple, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A frame derived from the data, built once per report, or once per `views` when shared (keyed by whether
        outcomes were loaded: the one input that differs between the project's reports). Never handed out as is
        (see _view); views derived from the panel are built from the stored panel, not a report's copy."""
        memo = self._memo if self.views is None else self.views
        return remembered(memo, ("view", self.data.outcomes is None, *key), build)

    def _view(self, key: tuple, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """This report's copy of a stored view (copy-on-write: a builder that changes it changes only its own)."""
        return self._stored(key, build).copy(deep=False)

    def _panel(self) -> pd.DataFrame:
        return self._stored(("panel",), self._build_panel)

    @property
    def confidence_level(self) -> float:
        return float(self.params.confidence_level)

    @property
    def alpha(self) -> float:
        return self.params.alpha

    @property
    def project_id(self) -> int:
        return self.data.project_id

    @cached_property
    def names(self) -> dict[int, str]:
        return self.data.brand_names()

    def name(self, brand_id: Any) -> str:
        return self.names.get(int(brand_id), f"brand {int(brand_id)}")

    @cached_property
    def own_brands(self) -> pd.DataFrame:
        """The project's own dc_scores brand rows (all periods, scored or not)."""
        b = self.data.scores.brands
        return b[b["project_id"] == self.project_id]

    @cached_property
    def latest(self) -> pd.Timestamp | None:
        """The project's latest period with a DC score, None when the project has none."""
        scored = self.own_brands[self.own_brands["dc_score"].notna()]
        return None if scored.empty else pd.Timestamp(scored["period"].max())

    @cached_property
    def panel(self) -> pd.DataFrame:
        """brand_id, period, t (period number), dc, the four sections and every outcome, up to `latest`."""
        return self._panel().copy(deep=False)

    def _build_panel(self) -> pd.DataFrame:
        outcomes = self.data.outcomes
        if outcomes is None:
            outcomes = pd.DataFrame(columns=["project_id", "brand_id", "period", *OUTCOME_COLUMNS])
        panel = outcome_observations(self.data.scores, outcomes, self.project_id)
        if self.latest is not None:
            panel = panel[panel["period"] <= self.latest]
        panel = panel[panel["dc"].notna()].reset_index(drop=True)
        panel["t"] = period_numbers(panel["period"], self.data.months_per_period) if len(panel) else np.array([])
        return panel

    def observations(self, *columns: str) -> pd.DataFrame:
        """Panel rows where DC and every named column are present (SPEC "obs")."""
        return self._view(("observations", *columns), lambda: self._panel().dropna(subset=["dc", *columns]))

    @cached_property
    def latest_panel(self) -> pd.DataFrame:
        def build():
            panel = self._panel()
            return panel[panel["period"] == self.latest] if self.latest is not None else panel.iloc[0:0]

        return self._view(("latest_panel",), build)

    def forecast_slice(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Forecast rows within the requested horizon: ceil(forecast_horizon / months per period) periods (§7.1)."""
        return frame[frame["horizon"] <= self.params.forecast_periods(self.data.months_per_period)]

    def outcome_model(self, target: str) -> dict[str, Any] | None:
        """The stored 6a result row of `target`, None when model results were not loaded or lack the target."""
        models = self.data.outcome_models
        if models is None or models.empty:
            return None
        rows = models[models["target"] == target]
        return None if rows.empty else rows.iloc[0].to_dict()
