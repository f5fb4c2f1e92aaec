"""Report 21, scenario_planning_analysis (SPEC §7 item 21): baseline = forecast median (current values when the
brand has no forecast), optimistic q0.9, pessimistic q0.1, plan = baseline + the knee plan's ΔDC phased in
linearly over the horizon; section shocks of -10 points (ΔDC = -10 e_sigma); P(DC >= 80) and P(DC >= 90) at
the horizon from 2000 seeded draws, next to the closed form of the same distribution; outcome translation
through validated 6a models. Charts: scenario lines; tornado of section shocks."""

from __future__ import annotations

from typing import Any

import numpy as np

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.risk import quantile_cdf, quantile_draws
from dc_pipeline.domain.reports.blocks.status import is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import TIER_BANDS
from dc_pipeline.domain.reports.builders.model_inputs import (
    distribution_at,
    forecast_table,
    knee_and_max,
    section_weights,
    series_forecast,
    validated_effect,
)
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS

N_DRAWS = 2000
SHOCK = -10.0
TARGETS = (80.0, 90.0)


def phased_plan(baseline: list[float], delta_dc: float) -> list[float]:
    """baseline + ΔDC x k/H at step k of H, capped at 100."""
    steps = len(baseline)
    return [min(100.0, b + delta_dc * (k + 1) / steps) for k, b in enumerate(baseline)]


def section_shocks(ctx: ReportContext, _: dict) -> dict[str, Any]:
    brands = {}
    for r in ctx.latest_panel.sort_values("brand_id").itertuples():
        weights = section_weights(ctx, int(r.brand_id))
        brands[str(r.brand_id)] = {
            "brand_name": ctx.name(r.brand_id),
            "dc": float(r.dc),
            "sections": {
                s: {"effective_weight": w, "delta_dc": SHOCK * w, "dc_after": float(r.dc) + SHOCK * w}
                for s, w in weights.items()
            },
        }
    mean_delta = {s: float(np.mean([b["sections"][s]["delta_dc"] for b in brands.values()])) for s in SECTIONS}
    worst = min(mean_delta, key=lambda s: (mean_delta[s], s))
    return ok_block(shock_points=SHOCK, mean_delta_dc=mean_delta, largest_shock_section=worst, brands=brands)


def _probabilities(levels, values, shift: float, rng: np.random.Generator) -> dict[str, Any]:
    draws = quantile_draws(levels, values, N_DRAWS, rng) + shift
    out = {}
    for target in TARGETS:
        closed = 1.0 - quantile_cdf(levels, values, target - shift)
        p = float(np.mean(draws >= target))
        out[f"p_{int(target)}"] = p
        out[f"p_{int(target)}_closed_form"] = closed
        out[f"p_{int(target)}_mc_se"] = float(np.sqrt(max(closed * (1 - closed), 1e-12) / N_DRAWS))
    return out


def scenarios(ctx: ReportContext, done: dict) -> dict[str, Any]:
    have_forecasts = forecast_table(ctx, "brand_forecasts") is not None
    rng = np.random.default_rng([ctx.settings.seed, ctx.project_id])
    horizon = ctx.params.forecast_periods(ctx.data.months_per_period)
    shocks = done["section_shocks"]["brands"]
    brands = {}
    for r in ctx.latest_panel.sort_values("brand_id").itertuples():
        key, dc = str(r.brand_id), float(r.dc)
        fc = series_forecast(ctx, int(r.brand_id), "dc") if have_forecasts else None
        knee, _ = knee_and_max(ctx, int(r.brand_id))
        entry: dict[str, Any] = {
            "brand_name": ctx.name(r.brand_id),
            "current_dc": dc,
            "knee_delta_dc": knee["delta_dc"] if knee else None,
            "knee_effort": knee["effort"] if knee else None,
        }
        if fc is None or fc.empty:
            entry.update(
                basis="current values: no stored DC forecast (a forecast needs 4 periods)",
                periods=[],
                baseline=[dc] * horizon,
                optimistic=None,
                pessimistic=None,
                probabilities={"status": "insufficient_data", "reason": "no forecast distribution to draw from"},
            )
            entry["plan"] = phased_plan(entry["baseline"], knee["delta_dc"]) if knee else None
        else:
            levels, values = distribution_at(fc)
            baseline = [float(v) for v in fc["q0.5"]]
            entry.update(
                basis="stored forecast quantiles",
                periods=[iso_date(p) for p in fc["period"]],
                baseline=baseline,
                optimistic=[float(v) for v in fc["q0.9"]],
                pessimistic=[float(v) for v in fc["q0.1"]],
                plan=phased_plan(baseline, knee["delta_dc"]) if knee else None,
            )
            probabilities = {"baseline": _probabilities(levels, values, 0.0, rng)}
            if knee:
                probabilities["plan"] = _probabilities(levels, values, knee["delta_dc"], rng)
            for s in SECTIONS:
                probabilities[f"shock_{s}"] = _probabilities(
                    levels, values, shocks[key]["sections"][s]["delta_dc"], rng
                )
            entry["probabilities"] = {"status": "ok", "horizon_period": entry["periods"][-1], **probabilities}
        brands[key] = entry
    return ok_block(
        horizon_periods=horizon,
        n_draws=N_DRAWS,
        targets=list(TARGETS),
        seed=ctx.settings.seed,
        draws="inverse transform of uniform draws through the piecewise-linear quantile function of the forecast "
        "at the horizon; the plan and shocks shift the draws by their ΔDC",
        forecasts_loaded=have_forecasts,
        brands=brands,
    )


def outcome_translation(ctx: ReportContext, done: dict) -> dict[str, Any]:
    if ctx.data.outcome_models is None:
        return unavailable_block("missing_input", f"outcome models not loaded for project {ctx.project_id}", 0, 1)
    effects = {o: e for o in OUTCOME_COLUMNS if (e := validated_effect(ctx, o)) is not None}
    if not effects:
        return unavailable_block("insufficient_data", "no validated score-to-outcome model (SPEC §6a)", 0, 1)
    brands = {}
    for key, b in done["scenarios"]["brands"].items():
        shocks = done["section_shocks"]["brands"][key]["sections"]
        moves = {"plan": b["knee_delta_dc"], **{f"shock_{s}": shocks[s]["delta_dc"] for s in SECTIONS}}
        brands[key] = {
            "brand_name": b["brand_name"],
            "changes": {
                name: {
                    o: {
                        "delta_dc": d,
                        "estimate": d * e["estimate"],
                        "ci_low": min(d * e["ci_low"], d * e["ci_high"]),
                        "ci_high": max(d * e["ci_low"], d * e["ci_high"]),
                    }
                    for o, e in effects.items()
                }
                for name, d in moves.items()
                if d is not None
            },
        }
    return ok_block(validated_outcomes=sorted(effects), per_dc_point=effects, brands=brands)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    sc = a["scenarios"]
    if is_ok(sc):
        for key, b in sc["brands"].items():
            pr = b.get("probabilities") or {}
            if pr.get("status") != "ok":
                continue
            B = join_pointer("analysis", "scenarios", "brands", key)
            figures = [
                cite(root, "brand", B + "/brand_name"),
                cite(root, "period", B + "/probabilities/horizon_period"),
                cite(root, "p80", B + "/probabilities/baseline/p_80", 2),
                cite(root, "p90", B + "/probabilities/baseline/p_90", 2),
                cite(root, "n", "/analysis/scenarios/n_draws", 0),
                cite(root, "t80", "/analysis/scenarios/targets/0", 0),
                cite(root, "t90", "/analysis/scenarios/targets/1", 0),
            ]
            text = (
                "{brand} reaches DC {t80} by {period} with probability {p80} on its forecast ({t90}: {p90}; {n} draws)"
            )
            gain = 0.0
            if "plan" in pr:
                figures += [
                    cite(root, "knee", B + "/knee_delta_dc", 1, signed=True),
                    cite(root, "pp80", B + "/probabilities/plan/p_80", 2),
                ]
                text += "; with the knee plan ({knee} DC) it is {pp80}"
                gain = pr["plan"]["p_80"] - pr["baseline"]["p_80"]
            out.append(insight("", text + ".", figures, min(1.0, 0.3 + abs(gain))))
    sh = a["section_shocks"]
    if is_ok(sh):
        s = sh["largest_shock_section"]
        out.append(
            insight(
                "",
                "A {shock} point shock to {section} costs the most: {delta} DC points on average across brands.",
                [
                    cite(root, "shock", "/analysis/section_shocks/shock_points", 0, signed=True),
                    cite(root, "section", "/analysis/section_shocks/largest_shock_section"),
                    cite(root, "delta", f"/analysis/section_shocks/mean_delta_dc/{s}", 2, signed=True),
                ],
                min(1.0, abs(sh["mean_delta_dc"][s]) / 10),
            )
        )
    ot = a["outcome_translation"]
    if is_ok(ot) and "revenue" in ot["validated_outcomes"]:
        for key, b in ot["brands"].items():
            if "plan" not in b["changes"]:
                continue
            P = join_pointer("analysis", "outcome_translation", "brands", key, "changes", "plan", "revenue")
            out.append(
                insight(
                    "",
                    "{brand}'s knee plan ({dc} DC) translates to {rev} revenue per period ({lo} to {hi}, validated "
                    "model).",
                    [
                        cite(
                            root, "brand", join_pointer("analysis", "outcome_translation", "brands", key, "brand_name")
                        ),
                        cite(root, "dc", P + "/delta_dc", 1, signed=True),
                        cite(root, "rev", P + "/estimate", 0, signed=True),
                        cite(root, "lo", P + "/ci_low", 0),
                        cite(root, "hi", P + "/ci_high", 0),
                    ],
                    0.4,
                )
            )
            break
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    sc = a["scenarios"]
    if is_ok(sc):
        for key, b in list(sc["brands"].items())[:4]:
            if not b["periods"]:
                continue
            series = {"baseline": b["baseline"]}
            for name in ("optimistic", "pessimistic", "plan"):
                if b.get(name):
                    series[name] = b[name]
            out[f"scenarios_{key}"] = charts.line(
                f"{b['brand_name']}: DC scenarios over the horizon",
                join_pointer("analysis", "scenarios", "brands", key),
                b["periods"],
                series,
                y_label="DC score",
                bands=TIER_BANDS,
                emphasis="baseline",
            )
    sh = a["section_shocks"]
    if is_ok(sh):
        out["section_shocks"] = charts.tornado(
            "Mean ΔDC of a ±10 point section shock (the -10 shock is the scenario)",
            "/analysis/section_shocks",
            list(SECTIONS),
            [sh["mean_delta_dc"][s] for s in SECTIONS],
            [-sh["mean_delta_dc"][s] for s in SECTIONS],
            x_label="ΔDC (points)",
        )
    return out


BUILDER = ReportBuilder(
    report_id="scenario_planning_analysis",
    needs=REPORT_NEEDS["scenario_planning_analysis"],
    blocks=(
        Block("section_shocks", section_shocks),
        Block("scenarios", scenarios, "standard"),
        Block("outcome_translation", outcome_translation, "standard"),
    ),
    insights=_insights,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Draws per scenario", "/analysis/scenarios/n_draws", "count"),
        Kpi("Most costly section shock", "/analysis/section_shocks/largest_shock_section", "text"),
    ],
)
