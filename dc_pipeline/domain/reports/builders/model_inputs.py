"""Reading the stored model outputs a predictive or executive report quotes (SPEC §6a-6c, §9): forecast
summaries and quantiles, plans, effective section weights, validated outcome effects, metric decision rows.

Forecasts are read as `brand_forecasts` stored them (never refitted): the quantile columns present are the
distribution, the summary's coverage is what the forecast asset measured."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.panels import project_latest_metric_rows
from dc_pipeline.domain.recommendations.effort import effort as effort_of
from dc_pipeline.domain.reports.blocks.risk import quantile_cdf
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.scoring import TIER_HIGH, TIER_MEDIUM
from dc_pipeline.domain.source_tables import SECTIONS

SCORE_SERIES = ("dc", *SECTIONS)
VALIDATED_TIERS = ("ets", "tuned")


def parsed(value: Any) -> Any:
    """A jsonb cell as Python (stored frames may hold it as text)."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def forecast_table(ctx: ReportContext, name: str) -> pd.DataFrame | None:
    """A stored forecast table, None when not loaded or not materialized (no rows for the project)."""
    frame = (ctx.data.forecasts or {}).get(name)
    return None if frame is None or frame.empty else frame


def missing_forecasts(ctx: ReportContext) -> str:
    return f"brand_forecasts not available for project {ctx.project_id}: materialize brand_forecasts first"


def quantile_levels(frame: pd.DataFrame) -> list[tuple[float, str]]:
    """(level, column) of the stored quantile columns, ascending."""
    return sorted((float(c[1:]), c) for c in frame.columns if c.startswith("q") and c[1:].replace(".", "").isdigit())


def interval_columns(frame: pd.DataFrame, level: float) -> tuple[str, str] | None:
    """The stored quantile columns of the central `level` interval, None when not stored."""
    cols = dict(quantile_levels(frame))
    low, high = round((1 - level) / 2, 6), round(1 - (1 - level) / 2, 6)
    found = [c for q, c in cols.items() if abs(q - low) < 1e-9], [c for q, c in cols.items() if abs(q - high) < 1e-9]
    return (found[0][0], found[1][0]) if found[0] and found[1] else None


def _quantiles_by_series(ctx: ReportContext) -> dict[tuple[int, str], pd.DataFrame]:
    q = forecast_table(ctx, "brand_forecasts")
    if q is None:
        return {}
    q = ctx.forecast_slice(q).sort_values(["brand_id", "series", "horizon"])
    return {(int(b), str(s)): g.reset_index(drop=True) for (b, s), g in q.groupby(["brand_id", "series"], sort=False)}


def series_forecast(ctx: ReportContext, brand_id: int, series: str) -> pd.DataFrame:
    """The brand's stored quantile rows of `series` within the requested horizon, by horizon."""
    found = ctx.memo("forecast_quantiles", lambda: _quantiles_by_series(ctx)).get((int(brand_id), series))
    return pd.DataFrame() if found is None else found


def _summaries(ctx: ReportContext) -> dict[tuple[int, str], dict[str, Any]]:
    s = forecast_table(ctx, "brand_forecast_summaries")
    if s is None:
        return {}
    out = {}
    for row in s.to_dict("records"):
        for key in ("backtest", "method_params"):
            if key in row:
                row[key] = parsed(row[key])
        out.setdefault((int(row["brand_id"]), str(row["series"])), row)
    return out


def summary_row(ctx: ReportContext, brand_id: int, series: str) -> dict[str, Any] | None:
    return ctx.memo("forecast_summaries", lambda: _summaries(ctx)).get((int(brand_id), series))


def forecast_is_validated(row: dict[str, Any]) -> bool:
    """A validated tier whose selected model was published (it beat the seasonal naive), as the registry says."""
    return row.get("tier") in VALIDATED_TIERS and row.get("published_method") == row.get("method")


def distribution_at(frame: pd.DataFrame, index: int = -1) -> tuple[list[float], list[float]]:
    """(levels, values) of one stored forecast row (default: the last horizon in the slice)."""
    levels = quantile_levels(frame)
    row = frame.iloc[index]
    return [lv for lv, _ in levels], [float(row[c]) for _, c in levels]


def tier_floor(dc: float | None) -> float | None:
    """The lowest DC that keeps the current tier (80 high, 60 medium); None for low (no tier below)."""
    if dc is None:
        return None
    return float(TIER_HIGH) if dc >= TIER_HIGH else float(TIER_MEDIUM) if dc >= TIER_MEDIUM else None


def p_below_floor(ctx: ReportContext, brand_id: int, dc_now: float | None) -> dict[str, Any]:
    """P(DC below the current tier floor at the horizon) from the stored DC quantiles (closed form)."""
    floor = tier_floor(dc_now)
    fc = series_forecast(ctx, brand_id, "dc")
    if floor is None:
        return {"status": "not_applicable", "reason": "low tier: no tier below", "floor": None, "p": None}
    if fc.empty:
        return {"status": "missing_input", "reason": f"no DC forecast for brand {brand_id}", "floor": floor, "p": None}
    levels, values = distribution_at(fc)
    return {
        "status": "ok",
        "floor": floor,
        "horizon": int(fc["horizon"].iloc[-1]),
        "period": pd.Timestamp(fc["period"].iloc[-1]).date().isoformat(),
        "p": quantile_cdf(levels, values, floor),
        "median": float(fc["q0.5"].iloc[-1]) if "q0.5" in fc else None,
    }


def plans(ctx: ReportContext, brand_id: int) -> pd.DataFrame:
    frame = (ctx.data.recommendations or {}).get("brand_recommendation_plans")
    if frame is None or frame.empty:
        return pd.DataFrame()
    return frame[frame["brand_id"] == brand_id].sort_values("plan_id").reset_index(drop=True)


def plan_dict(row: pd.Series) -> dict[str, Any]:
    return {
        "plan_id": int(row["plan_id"]),
        "delta_dc": float(row["delta_dc"]),
        "effort": float(row["effort"]),
        "n_metrics_changed": int(row["n_metrics_changed"]),
        "outcome_change": parsed(row.get("outcome_change")),
        "metrics": parsed(row["metrics"]) or [],
    }


def knee_and_max(ctx: ReportContext, brand_id: int) -> tuple[dict | None, dict | None]:
    """The knee plan and the largest-gain plan of the brand's stored front."""
    p = plans(ctx, brand_id)
    if p.empty:
        return None, None
    knee = p[p["is_knee"].astype(bool)]
    best = p.loc[p["delta_dc"].idxmax()]
    return (plan_dict(knee.iloc[0]) if len(knee) else None), plan_dict(best)


def plans_loaded(ctx: ReportContext) -> bool:
    frame = (ctx.data.recommendations or {}).get("brand_recommendation_plans")
    return frame is not None and not frame.empty


def missing_plans(ctx: ReportContext) -> str:
    return f"brand_recommendations not available for project {ctx.project_id}: materialize it first"


def section_weights(ctx: ReportContext, brand_id: int) -> dict[str, float]:
    """e_sigma = sum of the brand's effective metric weights per section in the latest period."""
    s = ctx.data.scores.sections
    own = s[(s["project_id"] == ctx.project_id) & (s["brand_id"] == brand_id) & (s["period"] == ctx.latest)]
    found = dict(zip(own["section_name"], own["effective_weight"].astype(float)))
    return {sec: float(found.get(sec, 0.0)) for sec in SECTIONS}


def validated_effect(ctx: ReportContext, target: str) -> dict[str, Any] | None:
    """Outcome per DC point of the stored 6a model of `target`, only when the model is validated."""
    row = ctx.outcome_model(target)
    if row is None or row.get("status") != "ok" or not bool(row.get("validated")):
        return None
    estimate = row.get("effect_estimate")
    if estimate is None or pd.isna(estimate):
        return None
    return {
        "target": target,
        "estimate": float(estimate),
        "ci_low": float(row["effect_ci_low"]),
        "ci_high": float(row["effect_ci_high"]),
        "level": float(row["effect_level"]),
        "model_id": row.get("model_id"),
    }


def metric_rows(ctx: ReportContext) -> pd.DataFrame:
    """Every member brand's metrics in the latest period with the cohort best and effort cost (SPEC §6c rows)."""
    if ctx.data.metrics is None:
        return pd.DataFrame()
    brands = ctx.latest_panel["brand_id"].unique()
    return ctx.memo(
        "metric_rows",
        lambda: project_latest_metric_rows(ctx.data.scores, ctx.data.metrics, ctx.project_id, brands),
    )


def gain_to_best(rows: pd.DataFrame) -> pd.DataFrame:
    """Per (brand, metric): delta = best - s, gain = e_m delta, effort by the SPEC §6c function, ratio."""
    out = rows.assign(delta=np.maximum(0.0, rows["best_score"] - rows["directed_score"]))
    out["gain"] = out["effective_weight"] * out["delta"]
    out["effort"] = effort_of(out["directed_score"], out["delta"], out["effort_cost"], out["best_score"])
    out["ratio"] = np.where(out["effort"] > 0, out["gain"] / out["effort"].where(out["effort"] > 0, 1.0), 0.0)
    return out[out["delta"] > 0].reset_index(drop=True)
