"""Report 22, growth_trajectory_modeling (SPEC §7 item 22): per-period growth and CAGR of DC and revenue;
linear, log-linear and logistic (asymptote <= 100) fits of each brand's DC chosen by AICc; time to reach 80
and 90 with a residual-bootstrap interval (500 reps, seeded); ΔDC over the time line decomposed by section
contribution. Charts: fitted curves; contribution-change waterfall."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.growth import BOOTSTRAP_REPS, CURVES, bootstrap_times, fit_curves
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block
from dc_pipeline.domain.reports.builders.common import TIER_BANDS, grain_unit
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import SECTIONS

MIN_PERIODS = 6
TARGETS = (80.0, 90.0)
MAX_CURVE_CHARTS = 4


def _cagr(first: float, last: float, years: float) -> float | None:
    if first <= 0 or last <= 0 or years <= 0:
        return None
    return float((last / first) ** (1 / years) - 1)


def _growth(values: np.ndarray, years: float) -> dict[str, Any]:
    rates = values[1:] / values[:-1] - 1 if values.size >= 2 else np.array([])
    rates = rates[np.isfinite(rates)]
    return {
        "n": int(values.size),
        "first": float(values[0]),
        "last": float(values[-1]),
        "latest_growth": float(rates[-1]) if rates.size else None,
        "mean_growth": float(rates.mean()) if rates.size else None,
        "cagr": _cagr(float(values[0]), float(values[-1]), years),
    }


def growth_rates(ctx: ReportContext, _: dict) -> dict[str, Any]:
    brands = {}
    for brand_id, g in ctx.panel.groupby("brand_id", sort=True):
        g = g.sort_values("t")
        years = (g["t"].iloc[-1] - g["t"].iloc[0]) * ctx.data.months_per_period / 12
        entry = {"brand_name": ctx.name(brand_id), "years": float(years), "dc": _growth(g["dc"].to_numpy(float), years)}
        rev = g.dropna(subset=["revenue"]) if "revenue" in g else g.iloc[0:0]
        if len(rev) >= 2:
            r_years = (rev["t"].iloc[-1] - rev["t"].iloc[0]) * ctx.data.months_per_period / 12
            entry["revenue"] = _growth(rev["revenue"].to_numpy(float), r_years)
        else:
            entry["revenue"] = {"status": "missing_input", "reason": f"{len(rev)} periods with revenue, 2 needed"}
        brands[str(brand_id)] = entry
    fastest = max(brands, key=lambda k: (brands[k]["dc"]["cagr"] or -1, k))
    return ok_block(unit=grain_unit(ctx), fastest_dc_brand=fastest, brands=brands)


def trajectories(ctx: ReportContext, _: dict) -> dict[str, Any]:
    rng = np.random.default_rng([ctx.settings.seed, ctx.project_id])
    brands = {}
    for brand_id, g in ctx.panel.groupby("brand_id", sort=True):
        g = g.sort_values("t")
        t, y = g["t"].to_numpy(float), g["dc"].to_numpy(float)
        if y.size < MIN_PERIODS:
            brands[str(brand_id)] = insufficient(f"{y.size} periods, {MIN_PERIODS} needed", y.size, MIN_PERIODS)
            continue
        fits = fit_curves(t, y)
        entry: dict[str, Any] = {"status": "ok", "brand_name": ctx.name(brand_id), "n": int(y.size), **fits}
        if fits["chosen"]:
            params = fits["fits"][fits["chosen"]]["params"]
            entry["time_to"] = bootstrap_times(fits["chosen"], params, t, y, TARGETS, ctx.confidence_level, rng)
            entry["fitted"] = [float(v) for v in CURVES[fits["chosen"]](t, *params)]
            entry["periods"] = [iso_date(p) for p in g["period"]]
            entry["values"] = [float(v) for v in y]
        brands[str(brand_id)] = entry
    rated = [k for k, b in brands.items() if is_ok(b) and b.get("chosen")]
    if not rated:
        n = int(ctx.panel["period"].nunique())
        return insufficient(f"insufficient history: {n} periods, {MIN_PERIODS} needed", n, MIN_PERIODS, brands=brands)
    chosen = {name: sum(1 for k in rated if brands[k]["chosen"] == name) for name in CURVES}
    return ok_block(
        unit=grain_unit(ctx),
        selection="lowest AICc (k = curve parameters + 1)",
        bootstrap_reps=BOOTSTRAP_REPS,
        confidence_percent=round(100 * ctx.confidence_level),
        chosen_counts=chosen,
        brands=brands,
    )


def decomposition(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """ΔDC of the portfolio mean from the first to the latest period = Σ_sigma Δ(mean section contribution)."""
    s = ctx.data.scores.sections
    s = s[s["brand_id"].isin(ctx.latest_panel["brand_id"]) & s["period"].isin(ctx.panel["period"])]
    periods = sorted(s["period"].unique())
    if len(periods) < 2:
        return insufficient(f"{len(periods)} period with section contributions, 2 needed", len(periods), 2)
    first, last = periods[0], periods[-1]
    both = set(s.loc[s["period"] == first, "brand_id"]) & set(s.loc[s["period"] == last, "brand_id"])
    s = s[s["brand_id"].isin(both)]
    by = s.groupby(["period", "section_name"])["contribution"].sum().unstack(fill_value=0.0) / len(both)
    start, end = float(by.loc[first].sum()), float(by.loc[last].sum())
    deltas = {sec: float(by.loc[last].get(sec, 0.0) - by.loc[first].get(sec, 0.0)) for sec in SECTIONS}
    return ok_block(
        first_period=iso_date(first),
        last_period=iso_date(last),
        n_brands=len(both),
        start_dc=start,
        end_dc=end,
        delta_dc=end - start,
        section_deltas=deltas,
        largest_driver=max(deltas, key=lambda k: (abs(deltas[k]), k)),
    )


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    tr = a["trajectories"]
    unit = grain_unit(ctx)
    if is_ok(tr):
        for key, b in tr["brands"].items():
            if not is_ok(b) or not b.get("chosen"):
                continue
            B = join_pointer("analysis", "trajectories", "brands", key)
            for target in ("80", "90"):
                tt = b["time_to"][target]
                T = f"{B}/time_to/{target}"
                who = [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "model", B + "/chosen"),
                    cite(root, "target", T + "/target", 0),
                ]
                if tt["periods"] == 0:
                    continue
                if tt["periods"] is not None and tt["ci_high"] is not None:  # None: the fit never gets there
                    out.append(
                        insight(
                            "",
                            f"{{brand}} reaches DC {{target}} in about {{t}} {unit}s on its {{model}} trajectory "
                            f"({{level}}% bootstrap interval {{lo}} to {{hi}}).",
                            [
                                *who,
                                cite(root, "t", T + "/periods"),
                                cite(root, "lo", T + "/ci_low"),
                                cite(root, "hi", T + "/ci_high"),
                                cite(root, "level", "/analysis/trajectories/confidence_percent", 0),
                            ],
                            max(0.1, 1 - tt["periods"] / 48),
                        )
                    )
                else:
                    out.append(
                        insight(
                            "",
                            "{brand} does not reliably reach DC {target} on its {model} trajectory: only {share} of "
                            "bootstrap fits get there.",
                            [*who, cite(root, "share", T + "/share_reaching", 2)],
                            0.35,
                        )
                    )
    d = a["decomposition"]
    if is_ok(d):
        s = d["largest_driver"]
        out.append(
            insight(
                "",
                "Mean DC moved {delta} points from {p0} to {p1}; {section} contributed the most ({part}).",
                [
                    cite(root, "delta", "/analysis/decomposition/delta_dc", 2, signed=True),
                    cite(root, "p0", "/analysis/decomposition/first_period"),
                    cite(root, "p1", "/analysis/decomposition/last_period"),
                    cite(root, "section", "/analysis/decomposition/largest_driver"),
                    cite(root, "part", f"/analysis/decomposition/section_deltas/{s}", 2, signed=True),
                ],
                min(1.0, abs(d["delta_dc"]) / 10),
            )
        )
    g = a["growth_rates"]
    if is_ok(g) and g["brands"][g["fastest_dc_brand"]]["dc"]["cagr"] is not None:
        B = join_pointer("analysis", "growth_rates", "brands", g["fastest_dc_brand"])
        out.append(
            insight(
                "",
                "{brand} grew DC fastest: {cagr} a year (CAGR) from {first} to {last}.",
                [
                    cite(root, "brand", B + "/brand_name"),
                    cite(root, "cagr", B + "/dc/cagr", 3),
                    cite(root, "first", B + "/dc/first"),
                    cite(root, "last", B + "/dc/last"),
                ],
                0.4,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    tr = a["trajectories"]
    if is_ok(tr):
        for key, b in [(k, b) for k, b in tr["brands"].items() if is_ok(b) and b.get("chosen")][:MAX_CURVE_CHARTS]:
            out[f"curve_{key}"] = charts.line(
                f"{b['brand_name']}: DC and the {b['chosen']} fit (lowest AICc)",
                join_pointer("analysis", "trajectories", "brands", key),
                b["periods"],
                {"DC": b["values"], f"{b['chosen']} fit": b["fitted"]},
                y_label="DC score",
                bands=TIER_BANDS,
            )
    d = a["decomposition"]
    if is_ok(d):
        out["contribution_waterfall"] = charts.waterfall(
            "Change in mean DC by section contribution",
            "/analysis/decomposition",
            list(SECTIONS),
            [d["section_deltas"][s] for s in SECTIONS],
            start=d["start_dc"],
            start_label=d["first_period"],
            end_label=d["last_period"],
            y_label="mean DC",
        )
    return out


BUILDER = ReportBuilder(
    report_id="growth_trajectory_modeling",
    needs=REPORT_NEEDS["growth_trajectory_modeling"],
    blocks=(
        Block("growth_rates", growth_rates),
        Block("trajectories", trajectories),
        Block("decomposition", decomposition),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Change in mean DC", "/analysis/decomposition/delta_dc"),
        Kpi("Largest driver", "/analysis/decomposition/largest_driver", "text"),
        Kpi("Brands on a logistic path", "/analysis/trajectories/chosen_counts/logistic", "count"),
    ],
)
