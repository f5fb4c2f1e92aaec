"""Forecasts of every series of a project's brands and the tables `brand_forecasts` stores (SPEC §6b).

`forecast_project` runs `forecast_series` on DC, the four sections and each outcome of each tracked brand, the
tuned tier tuned once per project and series for all its brands (project_tuning.py);
`forecast_tables` turns the results into the quantile, summary and coherence tables. Side effects (Optuna
storage) come in through the study factory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from dc_pipeline.domain.data_version import version_hex
from dc_pipeline.domain.forecasting.coherence import coherence_gap
from dc_pipeline.domain.forecasting.forecast import ForecastResult, forecast_series
from dc_pipeline.domain.forecasting.intervals import QUANTILE_COLUMNS
from dc_pipeline.domain.forecasting.project_tuning import FORECAST_KIND, tune_project_series
from dc_pipeline.domain.forecasting.tuned import TuningOutcome
from dc_pipeline.domain.json_values import json_columns
from dc_pipeline.domain.outcome_models.availability import missing_outcome_reason
from dc_pipeline.domain.panels import brand_series
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, OUTCOME_RANGES, SECTIONS
from dc_pipeline.domain.tuning import TuningSettings, study_name

COVERAGE_TOLERANCE = 0.10  # more than 10 pp off nominal makes the forecast's health REVIEW
SUMMARY_COLUMNS = [
    "project_id", "brand_id", "series", "kind", "tier", "status", "reason", "method", "method_params",
    "published_method", "n_observed", "horizon", "interval_method", "mase", "snaive_mase", "rel_mase",
    "coverage_80", "coverage_95", "coverage_n_points", "coverage_reason", "health", "backtest", "study_name",
    "model_id", "model_data_version",
]  # fmt: skip
QUANTILE_TABLE_COLUMNS = ["project_id", "brand_id", "series", "horizon", "period", *QUANTILE_COLUMNS,
                          "published_method"]  # fmt: skip
COHERENCE_COLUMNS = ["project_id", "brand_id", "horizon", "period", "coherence_gap"]


@dataclass
class SeriesForecast:
    """One series' forecast (result None with a reason when none was attempted or it failed)."""

    project_id: int
    brand_id: int
    series: str
    version: str  # hex data version of the observed series
    name: str  # study name, also the model id when published
    result: ForecastResult | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.status == "ok"


def series_kind(series: str) -> str:
    """Scores and bounded outcomes are modelled on the logit scale (forecasts stay in [0, 100]); unbounded
    positive outcomes on the log scale."""
    if series == "dc" or series in SECTIONS:
        return "score"
    return "score" if OUTCOME_RANGES[series][2] == 100.0 else "positive"


def clip_to_valid_range(frame: pd.DataFrame, series: str) -> pd.DataFrame:
    """Quantiles inside the series' valid range (SPEC §2), e.g. bestseller_rank >= 1."""
    scores = series == "dc" or series in SECTIONS
    low, high = (0.0, 100.0) if scores else (OUTCOME_RANGES[series][0], OUTCOME_RANGES[series][2])
    cols = [c for c in QUANTILE_COLUMNS if c in frame.columns]
    frame[cols] = frame[cols].clip(lower=low, upper=high)
    return frame


def coverage_health(backtest: dict) -> str:
    gaps = [
        abs(backtest[f"coverage_{level}"] - level / 100)
        for level in (80, 95)
        if backtest.get(f"coverage_{level}") is not None
    ]
    return "REVIEW" if any(g > COVERAGE_TOLERANCE for g in gaps) else "OK"


def forecast_brand(
    obs: pd.DataFrame,
    project_id: int,
    brand_id: int,
    *,
    m: int,
    horizon: int,
    settings: TuningSettings,
    study_factory: Callable | None,
    seed: int,
    tuned: dict[str, TuningOutcome] | None = None,
) -> list[SeriesForecast]:
    """Every series of one brand; an outcome never reported gets a `missing outcome` reason. `tuned` holds the
    outcome of the project's shared study per tuned-tier series (project_tuning.py); a tuned-tier series without
    one is tuned on its own."""
    out = []
    for series, y in brand_series(obs, brand_id).items():
        version = version_hex(y.dropna().reset_index())
        name = study_name(FORECAST_KIND, project_id, brand_id, series, version)
        reason = (
            missing_outcome_reason(series, y, f"brand {brand_id} in project {project_id}")
            if series in OUTCOME_COLUMNS
            else None
        )
        if reason:
            out.append(SeriesForecast(project_id, brand_id, series, version, name, None, reason))
            continue
        try:
            result = forecast_series(
                y, kind=series_kind(series), m=m, horizon=horizon, settings=settings,
                study_factory=study_factory, name=name, seed=seed, tuned=(tuned or {}).get(series),
            )  # fmt: skip
        except ValueError as exc:  # e.g. periods off the project's grain grid
            out.append(SeriesForecast(project_id, brand_id, series, version, name, None, f"forecast failed: {exc}"))
            continue
        out.append(SeriesForecast(project_id, brand_id, series, version, name, result))
    return out


def forecast_project(
    obs: pd.DataFrame,
    project_id: int,
    brand_ids: list[int],
    *,
    members: list[int],
    m: int,
    horizon: int,
    settings: TuningSettings,
    study_factory: Callable,
    seed: int,
) -> list[SeriesForecast]:
    """Every series of the given brands of one project. Tuned-tier series are tuned once per series for all the
    project's `members` (project_tuning.py), whichever of them this run publishes, so a run over one pair and
    a run over the whole project share the same study; each brand is published on its own backtest."""
    tuned = tune_project_series(
        obs, project_id, members, kind_of=series_kind, m=m, horizon=horizon, settings=settings,
        study_factory=study_factory,
    )  # fmt: skip
    return [
        forecast
        for b in brand_ids
        for forecast in forecast_brand(
            obs,
            project_id,
            b,
            m=m,
            horizon=horizon,
            settings=settings,
            study_factory=study_factory,
            seed=seed,
            tuned=tuned.get(b),
        )  # fmt: skip
    ]


def _summary_row(f: SeriesForecast, horizon: int) -> dict:
    base = {"project_id": f.project_id, "brand_id": f.brand_id, "series": f.series, "kind": series_kind(f.series),
            "horizon": horizon, "model_data_version": f.version}  # fmt: skip
    if f.result is None:
        status = "missing_input" if f.reason.startswith("missing") else "failed"
        return {**base, "tier": "none", "status": status, "reason": f.reason, "method_params": {}, "backtest": {},
                "health": None}  # fmt: skip
    r, bt = f.result, f.result.backtest
    return {
        **base, "tier": r.tier, "status": r.status, "reason": r.reason, "method": r.method,
        "method_params": r.method_params, "published_method": r.published_method, "n_observed": r.n_observed,
        "interval_method": r.interval_method,
        **{k: bt.get(k) for k in ("mase", "snaive_mase", "rel_mase", "coverage_80", "coverage_95", "coverage_n_points",
                                  "coverage_reason")},
        "health": coverage_health(bt) if r.status == "ok" else None, "backtest": bt,
        "study_name": r.study.study_name if r.study else None, "model_id": f.name if f.ok else None,
    }  # fmt: skip


def latest_section_weights(sections: pd.DataFrame, brand_id: int) -> dict[str, float]:
    """The brand's current effective section weights (its latest scored period)."""
    own = sections[sections["brand_id"] == brand_id]
    latest = own[own["period"] == own["period"].max()]
    return dict(zip(latest["section_name"], latest["effective_weight"].astype(float)))


def _coherence(forecasts: list[SeriesForecast], weights: dict[str, float]) -> pd.DataFrame:
    by_series = {f.series: f for f in forecasts}
    dc = by_series.get("dc")
    if dc is None or not dc.ok:
        return pd.DataFrame(columns=COHERENCE_COLUMNS)
    sections = {s: by_series[s].result.median for s in SECTIONS if s in by_series and by_series[s].ok}
    gap = coherence_gap(dc.result.median, sections, weights)
    return pd.DataFrame({"project_id": dc.project_id, "brand_id": dc.brand_id,
                         "horizon": dc.result.quantiles["horizon"].to_numpy(), "period": gap.index,
                         "coherence_gap": gap.values})  # fmt: skip


def forecast_tables(forecasts: list[SeriesForecast], sections: pd.DataFrame, horizon: int) -> dict[str, pd.DataFrame]:
    """brand_forecasts (quantiles of published series), brand_forecast_summaries, brand_forecast_coherence;
    `sections` are the stored section scores (for the current effective weights)."""
    quantiles = [
        clip_to_valid_range(f.result.quantiles.copy(), f.series).assign(
            project_id=f.project_id, brand_id=f.brand_id, series=f.series, published_method=f.result.published_method
        )
        for f in forecasts
        if f.ok
    ]
    summary = pd.DataFrame([_summary_row(f, horizon) for f in forecasts], columns=SUMMARY_COLUMNS)
    pairs = sorted({(f.project_id, f.brand_id) for f in forecasts})
    coherence = [
        _coherence(
            [f for f in forecasts if (f.project_id, f.brand_id) == pair],
            latest_section_weights(sections[sections["project_id"] == pair[0]], pair[1]),
        )
        for pair in pairs
    ]
    return {
        "brand_forecasts": (
            pd.concat(quantiles, ignore_index=True) if quantiles else pd.DataFrame(columns=QUANTILE_TABLE_COLUMNS)
        ).reindex(columns=QUANTILE_TABLE_COLUMNS),
        "brand_forecast_summaries": json_columns(summary, ["method_params", "backtest"], {}),
        "brand_forecast_coherence": pd.concat(coherence, ignore_index=True)
        if coherence
        else pd.DataFrame(columns=COHERENCE_COLUMNS),
    }
