"""Report 17, performance_forecasting_analysis (SPEC §7 item 17): the stored DC, section and outcome forecasts
over the horizon with intervals at the confidence level and at 80 %, tier and model with the reason, backtest
MASE and rel_MASE, interval coverage against nominal, and the coherence gap. Charts: fan charts (history,
forecast, seasonal naive) and the backtest relative-MASE table as a heatmap.

Nothing is refitted: quantiles, backtests and coverage are read from brand_forecasts. The seasonal-naive line of
the fan chart is the benchmark's definition applied to the history (the value one season back)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import f
from dc_pipeline.domain.reports.builders.model_inputs import (
    SCORE_SERIES,
    forecast_is_validated,
    forecast_table,
    interval_columns,
    missing_forecasts,
    series_forecast,
    summary_row,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.health import reason
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS
from dc_pipeline.domain.timeline import seasonal_period

COVERAGE_TOLERANCE = 0.10  # SPEC §6b: more than 10 pp off nominal makes the health REVIEW
MAX_FANS = 6


def history(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Per brand: periods of history and the forecast tier that length allows (descriptive, every depth)."""
    m = seasonal_period(ctx.data.grain)
    brands = {}
    for brand_id, g in ctx.panel.groupby("brand_id", sort=True):
        n = int(g["dc"].notna().sum())
        tier = "none" if n < 4 else "naive" if n < 8 else "ets" if n < 2 * m + 4 else "tuned"
        brands[str(brand_id)] = {
            "brand_name": ctx.name(brand_id),
            "n_periods": n,
            "latest_dc": float(g["dc"].iloc[-1]),
            "tier_by_length": tier,
        }
    return ok_block(seasonal_period=m, tuned_from=2 * m + 4, brands=brands)


def _benchmark(y: np.ndarray, steps: int, m: int) -> list[float]:
    """Seasonal naive: the value one season back (lag 1 when the history holds no more than one season)."""
    lag = m if y.size > m else 1
    return [float(y[y.size - lag + (h % lag)]) for h in range(steps)]


def _series_block(ctx: ReportContext, brand_id: int, series: str, history_values: np.ndarray) -> dict[str, Any]:
    row = summary_row(ctx, brand_id, series)
    if row is None:
        return unavailable_block("missing_input", f"no stored forecast of {series} for brand {brand_id}", 0, 1)
    base = {
        "tier": row.get("tier"),
        "method": row.get("method"),
        "published_method": row.get("published_method"),
        "reason": row.get("reason"),
        "n_observed": f(row.get("n_observed")),
        "validated": forecast_is_validated(row),
    }
    if row.get("status") != "ok":
        status = "missing_input" if row.get("status") == "missing_input" else "insufficient_data"
        return unavailable_block(status, str(row.get("reason")), f(row.get("n_observed")), 4, **base)
    fc = series_forecast(ctx, brand_id, series)
    level_cols = interval_columns(fc, ctx.confidence_level)
    pi80 = interval_columns(fc, 0.8)
    columns = (
        {"median": "q0.5"} | dict(zip(("low", "high"), level_cols or ())) | dict(zip(("low_80", "high_80"), pi80 or ()))
    )
    values = {name: fc[col].to_numpy(float).tolist() for name, col in columns.items()}
    periods = [iso_date(p) for p in fc["period"]]
    rows = [
        {"horizon": int(h), "period": periods[i]}
        | {name: values[name][i] if name in values else None for name in ("median", "low", "high", "low_80", "high_80")}
        for i, h in enumerate(fc["horizon"].to_numpy())
    ]
    bt = row.get("backtest") or {}
    coverage = {}
    for level in (80, 95):
        observed = f(row.get(f"coverage_{level}"))
        coverage[str(level)] = {
            "nominal": level / 100,
            "observed": observed,
            "gap_pp": None if observed is None else 100 * (observed - level / 100),
            "off": None if observed is None else bool(abs(observed - level / 100) > COVERAGE_TOLERANCE),
        }
    # Coverage's own sample size when the forecast asset stores it (calibrated intervals), else the backtest's.
    n_points = next(
        (v for v in (row.get("coverage_n_points"), bt.get("coverage_n_points")) if v is not None and not pd.isna(v)),
        bt.get("n_points"),
    )
    benchmark = _benchmark(history_values, len(rows), seasonal_period(ctx.data.grain)) if len(history_values) else []
    return ok_block(
        **base,
        interval_method=row.get("interval_method"),
        confidence_percent=round(100 * ctx.confidence_level),
        forecast=rows,
        final=rows[-1] if rows else None,
        seasonal_naive=benchmark,
        mase=f(row.get("mase")),
        snaive_mase=f(row.get("snaive_mase")),
        rel_mase=f(row.get("rel_mase")),
        beats_seasonal_naive=None
        if row.get("rel_mase") is None or pd.isna(row.get("rel_mase"))
        else bool(float(row["rel_mase"]) < 1),
        coverage=coverage,
        coverage_points=f(n_points),
        coverage_reason=row.get("coverage_reason"),
        backtest_origins=int(bt.get("n_origins") or 0),
    )


def forecasts(ctx: ReportContext, _: dict) -> dict[str, Any]:
    if forecast_table(ctx, "brand_forecast_summaries") is None:
        return unavailable_block("missing_input", missing_forecasts(ctx), 0, 1)
    available = [o for o in OUTCOME_COLUMNS if o in ctx.panel and ctx.panel[o].notna().any()]
    brands, unvalidated, review = {}, [], []
    for brand_id, g in ctx.panel.groupby("brand_id", sort=True):
        g = g.sort_values("t")
        series = {
            s: _series_block(ctx, int(brand_id), s, g[s].dropna().to_numpy(float)) for s in (*SCORE_SERIES, *available)
        }
        for s, b in series.items():
            if is_ok(b) and not b["validated"]:
                unvalidated.append(f"{ctx.name(brand_id)} {s} ({b['reason']})")
            if is_ok(b):
                for level, c in b["coverage"].items():
                    if c["off"]:
                        review.append(
                            reason(
                                "coverage_off_nominal",
                                f"{ctx.name(brand_id)} {s}: {level}% interval covered {100 * c['observed']:.0f}% of "
                                f"backtest points (nominal {level}%)",
                                c["observed"],
                                c["nominal"],
                            )
                        )
        brands[str(brand_id)] = {"brand_id": int(brand_id), "brand_name": ctx.name(brand_id), "series": series}
    shown = [b for br in brands.values() for b in br["series"].values() if is_ok(b)]
    rel = [b["rel_mase"] for b in shown if b["rel_mase"] is not None]
    return ok_block(
        horizon_periods=ctx.params.forecast_periods(ctx.data.months_per_period),
        confidence_percent=round(100 * ctx.confidence_level),
        n_series=len(shown),
        n_beating_naive=sum(1 for b in shown if b["beats_seasonal_naive"]),
        n_with_backtest=len(rel),
        median_rel_mase=float(np.median(rel)) if rel else None,
        n_coverage_off=len(review),
        coverage_tolerance_pp=100 * COVERAGE_TOLERANCE,
        worst_coverage=_worst_coverage(brands),
        model_validated=not unvalidated,
        validation_reason="; ".join(unvalidated[:5])
        + (f" and {len(unvalidated) - 5} more" if len(unvalidated) > 5 else "")
        if unvalidated
        else None,
        review_reasons=_coverage_reason(review),
        brands=brands,
    )


def _coverage_reason(misses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One health reason for all coverage misses (the list itself is in the block)."""
    if not misses:
        return []
    shown = "; ".join(m["message"] for m in misses[:3]) + (f"; {len(misses) - 3} more" if len(misses) > 3 else "")
    return [
        reason(
            "coverage_off_nominal",
            f"{len(misses)} forecast interval coverages more than "
            f"{100 * COVERAGE_TOLERANCE:.0f} pp off nominal: {shown}",
            len(misses),
            0,
        )
    ]


def _worst_coverage(brands: dict[str, Any]) -> dict[str, Any] | None:
    misses = [
        {
            "brand_name": b["brand_name"],
            "series": series,
            "nominal_percent": 100 * c["nominal"],
            "observed_percent": 100 * c["observed"],
            "points": s["coverage_points"],
        }
        for b in brands.values()
        for series, s in b["series"].items()
        if is_ok(s)
        for c in s["coverage"].values()
        if c["off"]
    ]
    return max(misses, key=lambda m: abs(m["observed_percent"] - m["nominal_percent"]), default=None)


def coherence(ctx: ReportContext, _: dict) -> dict[str, Any]:
    if forecast_table(ctx, "brand_forecast_summaries") is None:
        return unavailable_block("missing_input", missing_forecasts(ctx), 0, 1)
    frame = forecast_table(ctx, "brand_forecast_coherence")
    frame = None if frame is None else ctx.forecast_slice(frame)
    if frame is None or frame.empty:
        return unavailable_block(
            "insufficient_data", "no coherence gap stored: no brand has a DC and section forecast", 0, 1
        )
    brands = {}
    for brand_id, g in frame.groupby("brand_id", sort=True):
        g = g.sort_values("horizon")
        worst = g.loc[g["coherence_gap"].abs().idxmax()]
        brands[str(brand_id)] = {
            "brand_name": ctx.name(brand_id),
            "gap_at_horizon": float(g["coherence_gap"].iloc[-1]),
            "max_abs_gap": float(abs(worst["coherence_gap"])),
            "max_gap_period": iso_date(worst["period"]),
            "gaps": [float(v) for v in g["coherence_gap"]],
        }
    key = max(brands, key=lambda k: brands[k]["max_abs_gap"])
    return ok_block(
        definition="direct DC forecast - DC rebuilt from section forecasts at current effective weights",
        largest_gap_brand=key,
        brands=brands,
    )


def backtest_table(ctx: ReportContext, done: dict) -> dict[str, Any]:
    rows = []
    for brand_id in sorted(int(b) for b in ctx.panel["brand_id"].unique()):
        for series in SCORE_SERIES:
            row = summary_row(ctx, brand_id, series)
            for o in ((row or {}).get("backtest") or {}).get("origins", []):
                rows.append(
                    {
                        "brand_name": ctx.name(brand_id),
                        "series": series,
                        "origin_period": o["origin_period"],
                        "n_train": o["n_train"],
                        "mase": f(o.get("mase")),
                        "snaive_mase": f(o.get("snaive_mase")),
                    }
                )
    if not rows:
        return unavailable_block(
            "insufficient_data", "no backtest origins stored (series shorter than 7 periods)", 0, 1
        )
    return ok_block(rows=rows)


def _history_insight(root: dict) -> dict[str, Any]:
    h = root["analysis"]["history"]
    key = min(h["brands"], key=lambda k: (h["brands"][k]["n_periods"], k))
    B = join_pointer("analysis", "history", "brands", key)
    return insight(
        "",
        "The shortest history is {brand}'s {n} periods, which allows the {tier} forecast tier (tuned models need "
        "{full}).",
        [
            cite(root, "brand", B + "/brand_name"),
            cite(root, "n", B + "/n_periods", 0),
            cite(root, "tier", B + "/tier_by_length"),
            cite(root, "full", "/analysis/history/tuned_from", 0),
        ],
        0.2,
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a = root["analysis"]["forecasts"]
    out = [_history_insight(root)]
    if not is_ok(a):
        return out
    for key, b in a["brands"].items():
        s = b["series"]["dc"]
        if not is_ok(s) or not s["final"]:
            continue
        P = join_pointer("analysis", "forecasts", "brands", key, "series", "dc")
        figures = [
            cite(root, "brand", join_pointer("analysis", "forecasts", "brands", key, "brand_name")),
            cite(root, "median", P + "/final/median"),
            cite(root, "period", P + "/final/period"),
            cite(root, "level", P + "/confidence_percent", 0),
            cite(root, "lo", P + "/final/low"),
            cite(root, "hi", P + "/final/high"),
            cite(root, "method", P + "/published_method"),
        ]
        text = "{brand} DC is forecast at {median} in {period} ({level}% interval {lo} to {hi}; {method}"
        if s["rel_mase"] is not None:
            figures.append(cite(root, "rel", P + "/rel_mase", 2))
            text += ", relative MASE {rel}"
        change = s["final"]["median"] - ctx.panel.loc[ctx.panel["brand_id"] == int(key), "dc"].iloc[-1]
        out.append(insight("", text + ").", figures, min(1.0, 0.3 + abs(change) / 10)))
    if a["n_with_backtest"]:
        out.append(
            insight(
                "",
                "{k} of {n} backtested series beat the seasonal naive (median relative MASE {rel}).",
                [
                    cite(root, "k", "/analysis/forecasts/n_beating_naive", 0),
                    cite(root, "n", "/analysis/forecasts/n_with_backtest", 0),
                    cite(root, "rel", "/analysis/forecasts/median_rel_mase", 2),
                ],
                0.6,
            )
        )
    worst = a.get("worst_coverage")
    if worst:
        W = "/analysis/forecasts/worst_coverage"
        out.append(
            insight(
                "",
                "{k} backtest interval coverages are more than {tol} points off nominal; the widest miss: {brand} "
                "{series}, whose {level}% interval covered {obs}% of {n} backtest actuals.",
                [
                    cite(root, "k", "/analysis/forecasts/n_coverage_off", 0),
                    cite(root, "tol", "/analysis/forecasts/coverage_tolerance_pp", 0),
                    cite(root, "brand", W + "/brand_name"),
                    cite(root, "series", W + "/series"),
                    cite(root, "level", W + "/nominal_percent", 0),
                    cite(root, "obs", W + "/observed_percent", 0),
                    cite(root, "n", W + "/points", 0),
                ],
                min(0.7, abs(worst["observed_percent"] - worst["nominal_percent"]) / 50),
            )
        )
    coh = root["analysis"]["coherence"]
    if is_ok(coh):
        C = join_pointer("analysis", "coherence", "brands", coh["largest_gap_brand"])
        out.append(
            insight(
                "",
                "{brand}'s direct DC forecast and the DC rebuilt from its section forecasts differ by up to {gap} "
                "points ({period}).",
                [
                    cite(root, "brand", C + "/brand_name"),
                    cite(root, "gap", C + "/max_abs_gap", 2),
                    cite(root, "period", C + "/max_gap_period"),
                ],
                min(1.0, coh["brands"][coh["largest_gap_brand"]]["max_abs_gap"] / 10),
            )
        )
    return out


def _skill(block: dict[str, Any]) -> float | None:
    return None if block.get("rel_mase") is None else 1.0 - block["rel_mase"]


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a = root["analysis"]["forecasts"]
    if not is_ok(a):
        return {}
    out = {}
    ranked = [k for k, b in a["brands"].items() if is_ok(b["series"]["dc"])]
    for key in ranked[:MAX_FANS]:
        s = a["brands"][key]["series"]["dc"]
        g = ctx.panel[ctx.panel["brand_id"] == int(key)].sort_values("t")
        bands = []
        if s["forecast"][0]["low"] is not None:
            bands.append(
                {
                    "level": ctx.confidence_level,
                    "low": [r["low"] for r in s["forecast"]],
                    "high": [r["high"] for r in s["forecast"]],
                }
            )
        if s["forecast"][0]["low_80"] is not None and ctx.confidence_level != 0.8:
            bands.append(
                {
                    "level": 0.8,
                    "low": [r["low_80"] for r in s["forecast"]],
                    "high": [r["high_80"] for r in s["forecast"]],
                }
            )
        out[f"fan_{key}"] = charts.fan(
            f"{a['brands'][key]['brand_name']}: DC forecast ({s['published_method']})",
            join_pointer("analysis", "forecasts", "brands", key, "series", "dc"),
            [iso_date(p) for p in g["period"]],
            [float(v) for v in g["dc"]],
            [r["period"] for r in s["forecast"]],
            [r["median"] for r in s["forecast"]],
            bands,
            y_label="DC score",
            benchmark=s["seasonal_naive"] or None,
        )
    rows = list(a["brands"])
    if rows:
        out["backtest_skill"] = charts.heatmap(
            "Backtest skill over the seasonal naive: 1 - relative MASE (above 0 beats it)",
            "/analysis/forecasts",
            [a["brands"][k]["brand_name"] for k in rows],
            list(SCORE_SERIES),
            [[_skill(a["brands"][k]["series"][s]) for s in SCORE_SERIES] for k in rows],
            value_label="1 - relative MASE",
            vmin=-1.0,
            vmax=1.0,
            diverging=True,
        )
    return out


BUILDER = ReportBuilder(
    report_id="performance_forecasting_analysis",
    needs=REPORT_NEEDS["performance_forecasting_analysis"],
    blocks=(
        Block("history", history),
        Block("forecasts", forecasts, "standard"),
        Block("coherence", coherence, "standard"),
        Block("backtest_table", backtest_table, "detailed"),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Series forecast", "/analysis/forecasts/n_series", "count"),
        Kpi("Beating seasonal naive", "/analysis/forecasts/n_beating_naive", "count"),
        Kpi("Median relative MASE", "/analysis/forecasts/median_rel_mase", "coefficient"),
        Kpi("Intervals off nominal", "/analysis/forecasts/n_coverage_off", "count"),
    ],
)
