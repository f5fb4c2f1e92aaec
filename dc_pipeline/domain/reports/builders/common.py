"""Pieces several report builders share: latest-period standing, per-brand trends, the stored 6a model
block, outcome relationship blocks and chart helpers. One definition each."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.reports import charts
from dc_pipeline.domain.reports.blocks.correlation import corr_block
from dc_pipeline.domain.reports.blocks.multiplicity import holm_adjusted
from dc_pipeline.domain.reports.blocks.slope import fit_band, slope_block
from dc_pipeline.domain.reports.blocks.status import insufficient, is_ok, ok_block, unavailable_block
from dc_pipeline.domain.reports.blocks.trend import trend_block
from dc_pipeline.domain.reports.context import ReportContext
from dc_pipeline.domain.reports.insights import cite, insight
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer, resolve_pointer
from dc_pipeline.domain.scoring import TIER_HIGH, TIER_MEDIUM
from dc_pipeline.domain.source_tables import SECTIONS

TIER_BANDS = (TIER_MEDIUM, TIER_HIGH)


def f(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def grain_unit(ctx: ReportContext) -> str:
    return "quarter" if ctx.data.grain == "quarter" else "month"


def brand_trends(ctx: ReportContext, column: str, what: str) -> dict[str, Any]:
    """Trend block per brand of a panel column, with Holm-adjusted Mann-Kendall p across brands
    (a brand is called trending only when its adjusted p < alpha)."""
    out: dict[str, Any] = {}
    for brand_id, g in ctx.panel.dropna(subset=[column]).groupby("brand_id", sort=True):
        out[str(brand_id)] = {
            "brand_id": int(brand_id),
            "brand_name": ctx.name(brand_id),
            **trend_block(g["t"], g[column], ctx.confidence_level, what=f"{what} of {ctx.name(brand_id)}"),
        }
    tested = [k for k, b in out.items() if b["status"] == "ok"]
    if tested:
        adjusted = holm_adjusted([out[k]["mann_kendall"]["p"] for k in tested])
        for key, p in zip(tested, adjusted):
            b = out[key]
            b["p_holm"] = float(p)
            b["significant"] = bool(p < ctx.alpha)
            b["direction"] = (
                ("rising" if b["mann_kendall"]["s"] > 0 else "falling") if b["significant"] else "no_clear_trend"
            )
    return out


def trend_insight(root: dict, path: str, subject: str, unit: str, *, what: str = "DC") -> dict | None:
    """'{subject} {what} rose from a to b over n periods (Sen slope +x per unit, Mann-Kendall p ...)'."""
    b = resolve_pointer(root, path)
    if b.get("status") != "ok" or b["direction"] == "no_clear_trend":
        return None
    verb = "rose" if b["direction"] == "rising" else "fell"
    figures = [
        cite(root, "v0", f"{path}/first_value"),
        cite(root, "v1", f"{path}/last_value"),
        cite(root, "n", f"{path}/n", 0),
        cite(root, "slope", f"{path}/sen/slope", 2, signed=True),
        cite(root, "p", f"{path}/mann_kendall/p_label"),
    ]
    lead = subject
    if subject.startswith("/"):
        figures.insert(0, cite(root, "who", subject))
        lead = "{who}"
    text = (
        lead + f" {what} {verb} from {{v0}} to {{v1}} over {{n}} {unit}s (Sen slope {{slope}} per {unit}, "
        "Mann-Kendall {p})."
    )
    return insight("", text, figures, min(1.0, abs(b["trend_change"]) / 20))


def outcome_model_block(ctx: ReportContext, target: str) -> dict[str, Any]:
    """The stored 6a model of `target` (skill, validated, outcome per DC point with CI), or why not."""
    if ctx.data.outcome_models is None:
        return unavailable_block(
            "missing_input", f"outcome model results not loaded for project {ctx.project_id}", 0, 1
        )
    row = ctx.outcome_model(target)
    if row is None:
        return unavailable_block("missing_input", f"no {target} model stored for project {ctx.project_id}", 0, 1)
    if row.get("status") != "ok":
        return insufficient(
            str(row.get("reason") or f"{target} model not fitted"),
            f(row.get("n_obs")),
            ctx.settings.min_data_points,
            target=target,
            n_obs=f(row.get("n_obs")),
        )
    return ok_block(
        target=target,
        candidate=row.get("candidate"),
        feature_set=row.get("feature_set"),
        n_obs=f(row.get("n_obs")),
        skill=f(row.get("skill")),
        rmse=f(row.get("rmse")),
        r2=f(row.get("r2")),
        model_validated=bool(row.get("validated")),
        validation_reason=row.get("validation_reason"),
        outcome_per_dc_point={
            "estimate": f(row.get("effect_estimate")),
            "ci_low": f(row.get("effect_ci_low")),
            "ci_high": f(row.get("effect_ci_high")),
            "level": f(row.get("effect_level")),
        },
        model_id=row.get("model_id"),
    )


def _what(x: str, outcome: str) -> str:
    return f"brand-periods with {'DC' if x == 'dc' else x} and {outcome}"


def corr_of(ctx: ReportContext, outcome: str, x: str = "dc") -> dict[str, Any]:
    """The corr block of `outcome` against `x` over the observations (SPEC shared block)."""
    obs = ctx.observations(outcome, x)
    return corr_block(obs[x], obs[outcome], ctx.confidence_level, what=_what(x, outcome), outcome=outcome, against=x)


def slope_of(ctx: ReportContext, outcome: str, x: str = "dc", frame=None) -> dict[str, Any]:
    """The slope block of `outcome` on `x` (pooled and within-brand) over the observations."""
    obs = ctx.observations(outcome, x) if frame is None else frame
    return slope_block(obs, x, outcome, ctx.confidence_level, what=_what(x, outcome))


def section_correlations(ctx: ReportContext, outcome: str) -> dict[str, Any]:
    obs = ctx.observations(outcome)
    sections = {
        s: corr_block(obs[s], obs[outcome], ctx.confidence_level, what=f"brand-periods with {s} and {outcome}")
        for s in SECTIONS
    }
    ranked = sorted((k for k, b in sections.items() if is_ok(b)), key=lambda k: -abs(sections[k]["pearson"]["r"]))
    return ok_block(outcome=outcome, sections=sections, strongest=ranked[0] if ranked else None)


def scatter_by_brand(
    ctx: ReportContext,
    root: dict,
    name_path: str,
    outcome: str,
    x: str,
    *,
    title: str,
    x_label: str,
    y_label: str,
    invert_y: bool = False,
    slope_path: str | None = None,
) -> dict:
    """Observations coloured by brand with the pooled fit and its CI band when the slope block is ok."""
    obs = ctx.observations(outcome, x) if x != "dc" else ctx.observations(outcome)
    fit = None
    if slope_path:
        block = resolve_pointer(root, slope_path)
        if is_ok(block):
            grid = np.linspace(obs[x].min(), obs[x].max(), 25)
            fit = fit_band(block["pooled"], grid, ctx.confidence_level)
    return charts.scatter(
        title,
        name_path,
        obs[x].tolist(),
        obs[outcome].tolist(),
        [ctx.name(b) for b in obs["brand_id"]],
        x_label=x_label,
        y_label=y_label,
        fit=fit,
        invert_y=invert_y,
        supports=[name_path] + ([slope_path] if slope_path else []),
    )


def correlation_insight(root: dict, path: str, label: str) -> dict | None:
    b = resolve_pointer(root, path)
    if not is_ok(b):
        return None
    return insight(
        "",
        label + " r = {r} (Fisher {level}% CI {lo} to {hi}; Spearman {rho}) over {n} brand-periods.",
        [
            cite(root, "r", f"{path}/pearson/r", 4),
            cite(root, "level", f"{path}/confidence_percent", 0),
            cite(root, "lo", f"{path}/pearson/ci_low", 3),
            cite(root, "hi", f"{path}/pearson/ci_high", 3),
            cite(root, "rho", f"{path}/spearman/rho", 3),
            cite(root, "n", f"{path}/n", 0),
        ],
        abs(b["pearson"]["r"]),
    )


def slope_insight(root: dict, path: str, template: str, decimals: int, priority: float) -> dict | None:
    """`template` may use {slope} {lo} {hi} {level} (percent) {within_clause} {sig}; {sig} is worded from the
    brand-clustered p."""
    b = resolve_pointer(root, path)
    if not is_ok(b):
        return None
    figures = [
        cite(root, "slope", f"{path}/pooled/slope", decimals),
        cite(root, "lo", f"{path}/pooled/ci_low", decimals),
        cite(root, "hi", f"{path}/pooled/ci_high", decimals),
        cite(root, "level", f"{path}/confidence_percent", 0),
        cite(root, "p", f"{path}/pooled/p_label"),
    ]
    text = template
    if b["within"].get("status") == "ok":
        figures.append(cite(root, "within", f"{path}/within/slope", decimals))
    else:
        text = text.replace(" {within_clause}", "")
    text = text.replace("{within_clause}", "within brands {within};")
    sig = "significant" if b["significant"] else "not significant"
    text = text.replace("{sig}", f"{sig} at brand-clustered {{p}}")
    return insight("", text, figures, priority)


def latest_series_labels(ctx: ReportContext) -> list[str]:
    return [iso_date(p) for p in sorted(ctx.panel["period"].unique())]


def brand_pointer(block: str, key: Any, *rest: str) -> str:
    return join_pointer("analysis", block, "brands", key, *rest)


def missing_outcomes(ctx: ReportContext, *columns: str) -> dict[str, Any]:
    """The missing_input block of a computation needing every named outcome, naming the absent ones."""
    absent = [c for c in columns if ctx.panel[c].notna().sum() == 0]
    text = (
        f"missing outcome: {', '.join(absent)} {'is' if len(absent) == 1 else 'are'} null for all "
        f"{len(ctx.panel)} brand-periods of project {ctx.project_id}"
        if absent
        else f"missing outcome: no brand-period of project {ctx.project_id} has {' and '.join(columns)} together"
    )
    return unavailable_block("missing_input", text, 0, 1, columns=list(absent or columns))


LTV_CAC_FLOOR = 3.0
CAC, CLV = "customer_acquisition_cost", "customer_lifetime_value"


def ltv_cac(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """CLV / CAC per brand in the latest period with both; flagged below LTV_CAC_FLOOR (reports 5 and 11)."""
    obs = ctx.observations(CAC, CLV)
    if obs.empty:
        return missing_outcomes(ctx, CLV, CAC)
    latest = obs[obs["period"] == obs["period"].max()]
    brands = {
        str(r.brand_id): {
            "brand_name": ctx.name(r.brand_id),
            "clv": float(getattr(r, CLV)),
            "cac": float(getattr(r, CAC)),
            "ratio": float(getattr(r, CLV) / getattr(r, CAC)),
            "below_floor": bool(getattr(r, CLV) / getattr(r, CAC) < LTV_CAC_FLOOR),
        }
        for r in latest.itertuples()
    }
    return ok_block(period=iso_date(latest["period"].max()), floor=LTV_CAC_FLOOR, brands=brands)


def share_hhi(ctx: ReportContext, _: dict) -> dict[str, Any]:
    """Herfindahl-Hirschman index of the member brands' market shares per period (sum of squared
    percentages; reports 4 and 10)."""
    obs = ctx.observations("market_share")
    per = obs.groupby("period")["market_share"].agg(hhi=lambda s: float(np.sum(np.square(s))), total="sum", n="count")
    return ok_block(
        definition="sum over member brands of share^2 (share in percent)",
        periods=[
            {"period": iso_date(p), "hhi": float(r.hhi), "total_share": float(r.total), "n_brands": int(r.n)}
            for p, r in per.iterrows()
        ],
    )
