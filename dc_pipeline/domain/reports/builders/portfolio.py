"""Report 16, brand_portfolio_optimization (SPEC §7 item 16): mean and revenue-weighted portfolio DC,
diversity (sd/mean), revenue HHI, the synergy matrix and the effort allocation stored by portfolio_analysis
(SPEC §8), current against projected portfolio DC and revenue under that allocation, and each brand's DC
against its revenue growth."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.portfolio.allocation import NO_CHANGE
from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.builders.common import f, missing_outcomes, outcome_model_block, slope_of
from dc_pipeline.domain.reports.builders.growth import period_growth
from dc_pipeline.domain.reports.builders.plans import per_point, scaled
from dc_pipeline.domain.reports.catalog import REPORT_NEEDS
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.framework import Block, Kpi, ReportBuilder
from dc_pipeline.domain.reports.insights import cite, insight, recommendation
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer

REVENUE = "revenue"
GROWTH_WINDOW = 6


def _portfolio_table(ctx: ReportContext, name: str) -> tuple[pd.DataFrame | None, dict | None]:
    tables = ctx.data.portfolio
    if tables is None:
        return None, unavailable_block(
            "missing_input", f"portfolio analysis not loaded for project {ctx.project_id}", 0, 1
        )
    frame = tables.get(name)
    if frame is None or frame.empty:
        return None, unavailable_block(
            "missing_input", f"no {name} rows stored for project {ctx.project_id}: materialize portfolio_analysis", 0, 1
        )
    return frame, None


def portfolio_dc(ctx: ReportContext, _: dict) -> dict[str, Any]:
    latest = ctx.latest_panel.set_index("brand_id")
    dc, revenue = latest["dc"], latest[REVENUE]
    weighted = float((dc * revenue).sum() / revenue.sum()) if revenue.notna().all() and revenue.sum() > 0 else None
    return ok_block(
        period=iso_date(ctx.latest),
        n_brands=len(dc),
        mean_dc=float(dc.mean()),
        revenue_weighted_dc=weighted,
        revenue_weighted_reason=None
        if weighted is not None
        else f"revenue missing for {int(revenue.isna().sum())} of {len(dc)} brands",
        diversity=float(dc.std(ddof=1) / dc.mean()) if len(dc) > 1 else None,
        brands={str(b): {"brand_name": ctx.name(b), "dc": float(dc[b]), "revenue": f(revenue[b])} for b in dc.index},
    )


def revenue_concentration(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """HHI of the brands' shares of portfolio revenue (percent squared, 10,000 = one brand) per period."""
    obs = ctx.observations(REVENUE)
    if obs.empty:
        return missing_outcomes(ctx, REVENUE)
    share = 100 * obs[REVENUE] / obs.groupby("period")[REVENUE].transform("sum")
    per = share.pow(2).groupby(obs["period"]).sum()
    return ok_block(
        definition="sum over brands of (100 x brand revenue / portfolio revenue)^2",
        latest=float(per.iloc[-1]),
        period=iso_date(per.index[-1]),
        equal_split=10_000 / obs.groupby("period").size().iloc[-1],
        periods=[{"period": iso_date(p), "hhi": float(v)} for p, v in per.items()],
    )


def synergy(ctx: ReportContext, _: dict) -> dict[str, Any]:
    frame, missing = _portfolio_table(ctx, "portfolio_synergy")
    if missing:
        return missing
    dc = frame[frame["measure"] == "dc"]
    pairs = [
        {
            "brand_a": int(r.brand_a),
            "brand_b": int(r.brand_b),
            "names": f"{ctx.name(r.brand_a)} & {ctx.name(r.brand_b)}",
            "status": r.status,
            "reason": r.reason,
            "n_common_periods": int(r.n_common_periods),
            "r": f(r.r),
            "p": f(r.p),
            "p_holm": f(r.p_holm),
            "label": r.label,
        }
        for r in dc.itertuples()
    ]
    tested = [p for p in pairs if p["status"] == "ok"]
    counts = {
        label: sum(p["label"] == label for p in tested) for label in ("co_moving", "counter_moving", "independent")
    }
    comp, _ = _portfolio_table(ctx, "portfolio_complementarity")
    transfers, _ = _portfolio_table(ctx, "portfolio_transfers")
    best = comp.sort_values("complementarity", ascending=False).head(1) if comp is not None else pd.DataFrame()
    return ok_block(
        measure="first differences of DC",
        n_pairs=len(pairs),
        n_tested=len(tested),
        labels=counts,
        pairs=pairs,
        most_complementary=None
        if best.empty or pd.isna(best["complementarity"].iloc[0])
        else {
            "names": f"{ctx.name(best['brand_a'].iloc[0])} & {ctx.name(best['brand_b'].iloc[0])}",
            "complementarity": float(best["complementarity"].iloc[0]),
        },
        n_transfer_pairs=0 if transfers is None else len(transfers),
    )


def allocation(ctx: ReportContext, _: dict) -> dict[str, Any]:
    rows, missing = _portfolio_table(ctx, "portfolio_allocation")
    summary, missing_summary = _portfolio_table(ctx, "portfolio_allocation_summary")
    if missing or missing_summary:
        return missing or missing_summary
    s = summary.iloc[0]
    if s["status"] != "ok":
        return unavailable_block(str(s["status"]), str(s["reason"]), 0, 1)
    brands = {}
    for r in rows.sort_values("effort", ascending=False).itertuples():
        plan = None if pd.isna(r.plan_id) or r.plan_id == NO_CHANGE else int(r.plan_id)
        brands[str(r.brand_id)] = {
            "brand_name": ctx.name(r.brand_id),
            "status": r.status,
            "reason": r.reason,
            "value_weight": f(r.value_weight),
            "effort": f(r.effort) or 0.0,
            "share_pct": f(r.share_pct) or 0.0,
            "delta_dc": f(r.delta_dc) or 0.0,
            "plan_id": plan,
            "next_plan_id": None if pd.isna(r.next_plan_id) else int(r.next_plan_id),
            "fraction_to_next": f(r.fraction_to_next) or 0.0,
        }
    return ok_block(
        budget=float(s["budget"]),
        budget_source=s["budget_source"],
        spent=float(s["spent"]),
        value_basis=s["value_basis"],
        value_weighted_delta_dc=float(s["value_weighted_delta_dc"]),
        brands=brands,
    )


def projection(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Portfolio DC and revenue now and with each brand's allocated ΔDC added; revenue through the revenue
    per DC point (validated model, else the pooled slope) with its interval."""
    alloc, now = done["allocation"], done["portfolio_dc"]
    if not is_ok(alloc):
        return alloc
    gain = pd.Series({int(k): b["delta_dc"] for k, b in alloc["brands"].items()})
    dc = pd.Series({int(k): b["dc"] for k, b in now["brands"].items()})
    after = dc + gain.reindex(dc.index).fillna(0.0)
    out = {"mean_dc": {"current": float(dc.mean()), "projected": float(after.mean())}}
    revenue = pd.Series({int(k): b["revenue"] for k, b in now["brands"].items()}, dtype=float)
    point = done["revenue_per_dc_point"]
    if revenue.notna().all() and revenue.sum() > 0:
        out["revenue_weighted_dc"] = {
            "current": float((dc * revenue).sum() / revenue.sum()),
            "projected": float((after * revenue).sum() / revenue.sum()),
        }
        if is_ok(point):
            change = scaled(float(gain.sum()), point)
            out["revenue"] = {
                "current": float(revenue.sum()),
                "projected": float(revenue.sum()) + change["estimate"],
                "change": change,
                "per_point_source": point["source"],
            }
    if "revenue" not in out:
        out["revenue_reason"] = point.get("reason") if not is_ok(point) else "revenue missing for some brands"
    for key in ("mean_dc", "revenue_weighted_dc"):
        if key in out:
            out[key]["change"] = out[key]["projected"] - out[key]["current"]
    return ok_block(period=now["period"], **out)


def growth_quadrant(ctx: ReportContext, done: dict) -> dict[str, Any]:
    """Latest DC against mean revenue growth over the last GROWTH_WINDOW periods; quadrants split at the
    portfolio medians."""
    growth = done["revenue_growth"]
    if not is_ok(growth):
        return growth
    dc = {k: b["dc"] for k, b in done["portfolio_dc"]["brands"].items()}
    rates = {}
    for key, b in growth["brands"].items():
        recent = [s["growth_pct"] for s in b["series"][-GROWTH_WINDOW:] if s["growth_pct"] is not None]
        if recent and key in dc:
            rates[key] = float(np.mean(recent))
    if len(rates) < 2:
        return insufficient(f"insufficient history: {len(rates)} brands with revenue growth, 2 needed", len(rates), 2)
    dc_median, growth_median = float(np.median([dc[k] for k in rates])), float(np.median(list(rates.values())))
    brands = {
        k: {
            "brand_name": ctx.name(int(k)),
            "dc": dc[k],
            "mean_growth_pct": g,
            "quadrant": f"{'high' if dc[k] >= dc_median else 'low'} DC, "
            f"{'faster' if g >= growth_median else 'slower'} growth",
        }
        for k, g in rates.items()
    }
    return ok_block(window_periods=GROWTH_WINDOW, dc_median=dc_median, growth_median=growth_median, brands=brands)


def _insights(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    a, out = root["analysis"], []
    pdc = a["portfolio_dc"]
    figures = [
        cite(root, "mean", "/analysis/portfolio_dc/mean_dc", 2),
        cite(root, "div", "/analysis/portfolio_dc/diversity", 3),
        cite(root, "n", "/analysis/portfolio_dc/n_brands", 0),
    ]
    text = "The portfolio's {n} brands average DC {mean} (diversity sd/mean {div})"
    if pdc["revenue_weighted_dc"] is not None:
        figures.append(cite(root, "rw", "/analysis/portfolio_dc/revenue_weighted_dc", 2))
        text += "; weighted by revenue the DC is {rw}"
    out.append(insight("", text + ".", figures, 0.7))
    alloc = a["allocation"]
    if is_ok(alloc):
        key = next(iter(alloc["brands"]))
        B = join_pointer("analysis", "allocation", "brands", key)
        out.append(
            insight(
                "",
                "Spending the budget of {budget} effort units where value-weighted DC gain per effort is "
                "highest gives {top} {share}% of it and lifts the value-weighted portfolio DC by {gain} points.",
                [
                    cite(root, "budget", "/analysis/allocation/budget"),
                    cite(root, "top", B + "/brand_name"),
                    cite(root, "share", B + "/share_pct"),
                    cite(root, "gain", "/analysis/allocation/value_weighted_delta_dc", 2),
                ],
                0.9,
            )
        )
    proj = a["projection"]
    if is_ok(proj) and "revenue" in proj:
        P = "/analysis/projection/revenue"
        out.append(
            insight(
                "",
                "Under that allocation portfolio revenue would move from {now} to about {then} per period "
                "({lo} to {hi} change).",
                [
                    cite(root, "now", P + "/current", 0),
                    cite(root, "then", P + "/projected", 0),
                    cite(root, "lo", P + "/change/ci_low", 0, True),
                    cite(root, "hi", P + "/change/ci_high", 0, True),
                ],
                0.8,
            )
        )
    syn = a["synergy"]
    if is_ok(syn) and syn["n_tested"]:
        out.append(
            insight(
                "",
                "Of {n} brand pairs with enough history, {co} move together and {counter} against each other "
                "(first differences of DC, Holm-adjusted).",
                [
                    cite(root, "n", "/analysis/synergy/n_tested", 0),
                    cite(root, "co", "/analysis/synergy/labels/co_moving", 0),
                    cite(root, "counter", "/analysis/synergy/labels/counter_moving", 0),
                ],
                0.6,
            )
        )
    quad = a["growth_quadrant"]
    for key, b in quad["brands"].items() if is_ok(quad) else []:
        if b["quadrant"] == "low DC, slower growth":
            B = join_pointer("analysis", "growth_quadrant", "brands", key)
            out.append(
                insight(
                    "",
                    "{brand} sits below the portfolio medians on both DC ({dc}) and revenue growth ({g}% per period "
                    "over the last {n} periods).",
                    [
                        cite(root, "brand", B + "/brand_name"),
                        cite(root, "dc", B + "/dc", 2),
                        cite(root, "g", B + "/mean_growth_pct", 2, True),
                        cite(root, "n", "/analysis/growth_quadrant/window_periods", 0),
                    ],
                    0.55,
                )
            )
    hhi = a["revenue_concentration"]
    if is_ok(hhi):
        out.append(
            insight(
                "",
                "Revenue concentration (HHI) is {hhi} in {period}, against {equal} for an equal split.",
                [
                    cite(root, "hhi", "/analysis/revenue_concentration/latest", 0),
                    cite(root, "period", "/analysis/revenue_concentration/period"),
                    cite(root, "equal", "/analysis/revenue_concentration/equal_split", 0),
                ],
                0.5,
            )
        )
    return out


def _recommendations(root: dict, ctx: ReportContext) -> list[dict[str, Any]]:
    alloc = root["analysis"]["allocation"]
    if not is_ok(alloc):
        return []
    out = []
    for key, b in alloc["brands"].items():
        if b["effort"] <= 0:
            continue
        P = join_pointer("analysis", "allocation", "brands", key)
        text = "{brand}: put {effort} effort units ({share}% of the budget) into plan {plan} for +{dc} DC."
        figures = [
            cite(root, "brand", P + "/brand_name"),
            cite(root, "effort", P + "/effort"),
            cite(root, "share", P + "/share_pct"),
            cite(root, "dc", P + "/delta_dc", 2),
        ]
        if b["next_plan_id"] is not None:
            text = text.replace("plan {plan}", "a mix of plans {plan} and {next}")
            figures.append(cite(root, "next", P + "/next_plan_id", 0))
        figures.append(
            cite(root, "plan", P + "/plan_id", 0)
            if b["plan_id"] is not None
            else cite(root, "plan", "/analysis/allocation/budget_source")
        )
        if b["plan_id"] is None:
            text = text.replace("plan {plan}", "the first segment of its front (budget: {plan})").replace(
                "a mix of plans the first segment of its front (budget: {plan}) and {next}", "plan {next} in part"
            )
        out.append(
            recommendation(
                "",
                text,
                figures,
                brand_id=int(key),
                section=None,
                expected_delta_dc=b["delta_dc"],
                effort=b["effort"],
                source=P,
            )
        )
    return out


def _charts(root: dict, ctx: ReportContext) -> dict[str, Any]:
    a, out = root["analysis"], {}
    alloc = a["allocation"]
    if is_ok(alloc):
        out["allocation"] = charts.bar(
            f"Effort allocation (budget {alloc['budget']:.1f}, {alloc['budget_source']})",
            "/analysis/allocation",
            [b["brand_name"] for b in alloc["brands"].values()],
            [b["effort"] for b in alloc["brands"].values()],
            y_label="effort units",
            value_format="coefficient",
        )
    syn = a["synergy"]
    if is_ok(syn) and syn["n_tested"]:
        ids = sorted({p[k] for p in syn["pairs"] for k in ("brand_a", "brand_b")})
        r = {(p["brand_a"], p["brand_b"]): p["r"] for p in syn["pairs"]}
        values = [[1.0 if i == j else r.get((min(i, j), max(i, j))) for j in ids] for i in ids]
        out["synergy_heatmap"] = charts.heatmap(
            "Co-movement of DC changes (Pearson r of first differences)",
            "/analysis/synergy",
            [ctx.name(i) for i in ids],
            [ctx.name(i) for i in ids],
            values,
            value_label="r",
            vmin=-1,
            vmax=1,
            diverging=True,
        )
    quad = a["growth_quadrant"]
    if is_ok(quad):
        keys = list(quad["brands"])
        revenue = {k: b["revenue"] for k, b in a["portfolio_dc"]["brands"].items()}
        sized = all(revenue.get(k) for k in keys)
        out["dc_vs_growth"] = charts.bubble(
            f"DC against revenue growth (medians: DC {quad['dc_median']:.1f}, growth {quad['growth_median']:.2f}%)",
            "/analysis/growth_quadrant",
            [quad["brands"][k]["dc"] for k in keys],
            [quad["brands"][k]["mean_growth_pct"] for k in keys],
            [revenue[k] if sized else 1.0 for k in keys],
            [quad["brands"][k]["brand_name"] for k in keys],
            x_label="DC score",
            y_label=f"mean revenue growth, last {quad['window_periods']} periods (%)",
            size_label="revenue" if sized else "equal",
        )
    return out


BUILDER = ReportBuilder(
    report_id="brand_portfolio_optimization",
    needs=REPORT_NEEDS["brand_portfolio_optimization"],
    blocks=(
        Block("portfolio_dc", portfolio_dc),
        Block("revenue_concentration", revenue_concentration),
        Block("revenue_growth", lambda ctx, _: period_growth(ctx, REVENUE)),
        Block("growth_quadrant", growth_quadrant),
        Block("synergy", synergy),
        Block("revenue_slope", lambda ctx, _: slope_of(ctx, REVENUE)),
        Block("revenue_model", lambda ctx, _: outcome_model_block(ctx, REVENUE), "standard"),
        Block(
            "revenue_per_dc_point", lambda ctx, done: per_point(done["revenue_model"], done["revenue_slope"], REVENUE)
        ),
        Block("allocation", allocation, "standard"),
        Block("projection", projection, "standard"),
    ),
    insights=_insights,
    recommendations=_recommendations,
    charts=_charts,
    kpis=lambda root, ctx: [
        Kpi("Portfolio DC (mean)", "/analysis/portfolio_dc/mean_dc", "score"),
        Kpi("Portfolio DC (revenue-weighted)", "/analysis/portfolio_dc/revenue_weighted_dc", "score"),
        Kpi("Revenue HHI", "/analysis/revenue_concentration/latest", "count"),
        Kpi("Value-weighted ΔDC of the allocation", "/analysis/allocation/value_weighted_delta_dc", "score"),
    ],
)
