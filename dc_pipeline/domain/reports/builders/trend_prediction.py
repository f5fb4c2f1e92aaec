"""Report 18, trend_prediction_analysis (SPEC §7 item 18): per brand and series (DC and the four sections) an
OLS slope t-test, Mann-Kendall (S, Z, p), Sen's slope, a quadratic-term test, CUSUM change points and a Sen
projection at the horizon, labelled strong_* / weak_* / no_clear_trend.

Honesty: both tests are autocorrelation-aware (HAC standard errors for OLS, the Yue-Wang AR(1) variance factor for
Mann-Kendall) and Holm-adjusted across every series the report tests, per test; a label counts a test as
significant only on its adjusted p. So one noisy step in one of 25 series is not reported as a trend."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import p_label
from dc_pipeline.domain.reports.blocks.multiplicity import holm_adjusted
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.blocks.trend import trend_block
from dc_pipeline.domain.reports.blocks.trend_tests import cusum_change_points, ols_trend, quadratic_term
from dc_pipeline.domain.reports.builders.common import TIER_BANDS, grain_unit
from dc_pipeline.domain.reports.builders.model_inputs import SCORE_SERIES
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

MIN_PERIODS = 6
MAX_TREND_CHARTS = 6
LABELS = ("strong_rising", "weak_rising", "no_clear_trend", "weak_falling", "strong_falling")


def series_name(series: str) -> str:
    return "DC" if series == "dc" else series


def _one_series(ctx: ReportContext, brand_id: int, t, values, labels, column: str, horizon: int) -> dict[str, Any]:
    keep = np.isfinite(values)
    x, y = t[keep], values[keep]
    what = f"{series_name(column)} of {ctx.name(brand_id)}"
    if y.size < MIN_PERIODS:
        return insufficient(f"insufficient history: {y.size} periods of {what}, {MIN_PERIODS} needed", y.size, 6)
    periods = [label for label, k in zip(labels, keep) if k]
    mk = trend_block(x, y, ctx.confidence_level, what=what)
    ols = ols_trend(x, y, ctx.alpha)
    sen = mk["sen"]
    at = x[-1] + horizon
    projection = float(np.clip(sen["intercept"] + sen["slope"] * at, 0, 100))
    spread = [
        float(np.clip(sen["intercept"] + s * at + (sen["slope"] - s) * np.median(x), 0, 100))
        for s in (sen["ci_low"], sen["ci_high"])
    ]
    cusum = cusum_change_points(y, ctx.alpha, seed=ctx.settings.seed)
    for c in cusum.get("change_points", []):
        c["period"] = periods[c["index"]]
    return ok_block(
        n=int(y.size),
        first_period=periods[0],
        last_period=periods[-1],
        ols=ols,
        mann_kendall=mk["mann_kendall"],
        sen=sen,
        quadratic=quadratic_term(x, y, ctx.alpha, ols["slope"]),
        change_points=cusum,
        projection={
            "horizon_periods": horizon,
            "value": projection,
            "low": min(spread),
            "high": max(spread),
            "basis": "Sen line through the median (x, y); the range uses the Sen slope's CI",
        },
        first_value=float(y[0]),
        last_value=float(y[-1]),
        periods=periods,
        values=[float(v) for v in y],
    )


def _label(b: dict[str, Any], alpha: float) -> None:
    ols_sig = b["ols"]["p_holm"] < alpha
    mk_sig = b["mann_kendall"]["p_holm"] < alpha
    signs = [np.sign(b["ols"]["slope"])] if ols_sig else []
    signs += [np.sign(b["mann_kendall"]["s"])] if mk_sig else []
    if not signs or len(set(signs)) > 1:
        b["label"] = "no_clear_trend"
        return
    word = "rising" if signs[0] > 0 else "falling"
    b["label"] = f"{'strong' if ols_sig and mk_sig else 'weak'}_{word}"


def trends(ctx: ReportContext, _: dict) -> dict[str, Any]:
    horizon = ctx.params.forecast_periods(ctx.data.months_per_period)
    brands: dict[str, Any] = {}
    for brand_id, g in ctx.panel.sort_values("t").groupby("brand_id", sort=True):
        t, labels = g["t"].to_numpy(float), [iso_date(p) for p in g["period"]]
        brands[str(brand_id)] = {
            "brand_id": int(brand_id),
            "brand_name": ctx.name(brand_id),
            "series": {
                s: _one_series(ctx, int(brand_id), t, g[s].to_numpy(float), labels, s, horizon) for s in SCORE_SERIES
            },
        }
    tested = [(k, s) for k, b in brands.items() for s, blk in b["series"].items() if is_ok(blk)]
    if not tested:
        n = int(ctx.panel["period"].nunique())
        return insufficient(f"insufficient history: {n} periods, {MIN_PERIODS} needed", n, MIN_PERIODS, brands=brands)
    for test in ("ols", "mann_kendall"):
        adjusted = holm_adjusted([brands[k]["series"][s][test]["p"] for k, s in tested])
        for (k, s), p in zip(tested, adjusted):
            brands[k]["series"][s][test]["p_holm"] = float(p)
            brands[k]["series"][s][test]["p_holm_label"] = p_label(float(p))
    counts = dict.fromkeys(LABELS, 0)
    for k, s in tested:
        _label(brands[k]["series"][s], ctx.alpha)
        counts[brands[k]["series"][s]["label"]] += 1
    return ok_block(
        alpha=ctx.alpha,
        confidence_percent=round(100 * ctx.confidence_level),
        unit=grain_unit(ctx),
        horizon_periods=horizon,
        multiple_testing=f"Holm across {len(tested)} series, per test",
        n_series_tested=len(tested),
        label_counts=counts,
        brands=brands,
    )


def portfolio_trend(ctx: ReportContext, _: dict) -> dict[str, Any]:
    mean = ctx.panel.groupby("period").agg(dc=("dc", "mean"), t=("t", "first")).sort_index()
    return trend_block(mean["t"], mean["dc"], ctx.confidence_level, what="the portfolio mean DC", min_n=MIN_PERIODS)


def _series_path(key: str, series: str) -> str:
    return join_pointer("analysis", "trends", "brands", key, "series", series)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    t = root["analysis"]["trends"]
    if not is_ok(t):
        return []
    out = []
    unit = t["unit"]
    for key, b in t["brands"].items():
        for series, s in b["series"].items():
            if not is_ok(s):
                continue
            P = _series_path(key, series)
            who = [cite(root, "brand", join_pointer("analysis", "trends", "brands", key, "brand_name"))]
            if s["label"] != "no_clear_trend":
                verb = "rising" if s["label"].endswith("rising") else "falling"
                strength = "both tests agree" if s["label"].startswith("strong") else "one of two tests"
                out.append(
                    insight(
                        "",
                        f"{{brand}} {series_name(series)} is {verb} ({strength}): Sen slope {{sen}} per {unit}, "
                        f"OLS {{ols}} (Holm-adjusted {{p_ols}}), Mann-Kendall S {{s}}; the Sen line projects "
                        f"{{proj}} in {{h}} {unit}s.",
                        [
                            *who,
                            cite(root, "sen", P + "/sen/slope", 2, signed=True),
                            cite(root, "ols", P + "/ols/slope", 2, signed=True),
                            cite(root, "p_ols", P + "/ols/p_holm_label"),
                            cite(root, "s", P + "/mann_kendall/s", 0),
                            cite(root, "proj", P + "/projection/value"),
                            cite(root, "h", P + "/projection/horizon_periods", 0),
                        ],
                        min(1.0, abs(s["sen"]["slope"]) * s["n"] / 20) * (1.0 if series == "dc" else 0.8),
                    )
                )
            for i, c in enumerate(s["change_points"].get("change_points", [])):
                C = f"{P}/change_points/change_points/{i}"
                out.append(
                    insight(
                        "",
                        f"{{brand}} {series_name(series)} shifted by {{shift}} points at {{period}} (CUSUM, "
                        "{p}; mean {before} before, {after} after).",
                        [
                            *who,
                            cite(root, "shift", C + "/shift", 1, signed=True),
                            cite(root, "period", C + "/period"),
                            cite(root, "p", C + "/p_label"),
                            cite(root, "before", C + "/mean_before"),
                            cite(root, "after", C + "/mean_after"),
                        ],
                        min(1.0, abs(c["shift"]) / 15),
                    )
                )
            quad = s["quadratic"]
            if quad.get("status") == "ok" and quad["curvature"] != "none" and s["label"] != "no_clear_trend":
                out.append(
                    insight(
                        "",
                        f"{{brand}} {series_name(series)} trend is {{curve}} (quadratic term {{q}}, {{p}}).",
                        [
                            *who,
                            cite(root, "curve", P + "/quadratic/curvature"),
                            cite(root, "q", P + "/quadratic/coefficient", 3, signed=True),
                            cite(root, "p", P + "/quadratic/p_label"),
                        ],
                        0.3,
                    )
                )
    out.append(
        insight(
            "",
            "{quiet} of {n} series show no clear trend after Holm adjustment at alpha {alpha}.",
            [
                cite(root, "quiet", "/analysis/trends/label_counts/no_clear_trend", 0),
                cite(root, "n", "/analysis/trends/n_series_tested", 0),
                cite(root, "alpha", "/analysis/trends/alpha", 2),
            ],
            0.2,
        )
    )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    t = root["analysis"]["trends"]
    if not is_ok(t):
        return {}
    out = {}
    ranked = sorted(
        (k for k, b in t["brands"].items() if is_ok(b["series"]["dc"])),
        key=lambda k: -abs(t["brands"][k]["series"]["dc"]["sen"]["slope"]),
    )
    for key in ranked[:MAX_TREND_CHARTS]:
        s = t["brands"][key]["series"]["dc"]
        x = ctx.panel.loc[ctx.panel["brand_id"] == int(key)].dropna(subset=["dc"]).sort_values("t")["t"].to_numpy()
        sen_line = [s["sen"]["intercept"] + s["sen"]["slope"] * v for v in x]
        out[f"trend_{key}"] = charts.line(
            f"{t['brands'][key]['brand_name']}: DC with Sen line and change points ({s['label']})",
            _series_path(key, "dc"),
            s["periods"],
            {"DC": s["values"], "Sen line": sen_line},
            y_label="DC score",
            bands=TIER_BANDS,
            markers=[c["period"] for c in s["change_points"].get("change_points", [])],
        )
    return out


BUILDER = ReportBuilder(
    report_id="trend_prediction_analysis",
    needs=REPORT_NEEDS["trend_prediction_analysis"],
    blocks=(Block("trends", trends), Block("portfolio_trend", portfolio_trend)),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Series tested", "/analysis/trends/n_series_tested", "count"),
        Kpi("Strong rising", "/analysis/trends/label_counts/strong_rising", "count"),
        Kpi("Strong falling", "/analysis/trends/label_counts/strong_falling", "count"),
        Kpi("Portfolio Sen slope", "/analysis/portfolio_trend/sen/slope", "coefficient"),
    ],
)
