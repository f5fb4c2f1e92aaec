"""Report 1, `dc_score_performance_analysis` (SPEC §7 item 1), built from `DcScores` frames.

Latest-period standing (DC, tier, rank, gaps), per-brand statistics over the time line, IQR
outliers among brands, top contributions and shortfalls, three charts, templated insights and
shortfall-based recommendations. Pure: the caller passes frames and adds system metadata.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dc_pipeline.domain.reports.catalog import full_analysis_need, report_spec
from dc_pipeline.domain.reports.charts import visualization
from dc_pipeline.domain.reports.envelope import (
    confidence, dq_band, executive_summary, health, ok_block, reason, skipped_block, unavailable_block,
)
from dc_pipeline.domain.reports.insights import Figure, cite, insight, recommendation, renumber
from dc_pipeline.domain.json_values import to_jsonable
from dc_pipeline.domain.reports.json_values import iso_date, join_pointer
from dc_pipeline.domain.reports.params import ReportParams
from dc_pipeline.domain.recommendations.effort import effort as effort_of
from dc_pipeline.domain.scoring import TIER_HIGH, TIER_MEDIUM, DcScores
from dc_pipeline.domain.source_tables import SECTIONS
from dc_pipeline.domain.timeline import one_row_per_brand_period, seasonal_period

REPORT_ID = "dc_score_performance_analysis"
TIER_FLOORS = {"high": TIER_HIGH, "medium": TIER_MEDIUM}  # SPEC §4 tiers on the unrounded DC
TOP_N = 5
MIN_OUTLIER_BRANDS = 4
IQR_FENCE = 1.5


def _f(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


# ---------- analysis blocks ----------

def _latest_block(own: pd.DataFrame, latest: pd.Timestamp, name) -> dict[str, Any]:
    rows = own[own["period"] == latest]
    scored = rows[rows["dc_score"].notna()]
    leader_dc, mean = scored["dc_score"].max(), scored["dc_score"].mean()
    order = scored.sort_values(["dc_score", "brand_id"], ascending=[False, True])
    brands: dict[str, Any] = {}
    for r in pd.concat([order, rows[rows["dc_score"].isna()].sort_values("brand_id")]).itertuples():
        dc = _f(r.dc_score)
        brands[str(r.brand_id)] = {
            "brand_id": int(r.brand_id), "brand_name": name(r.brand_id), "dc_score": dc, "tier": r.tier,
            "rank": None if pd.isna(r.rank) else int(r.rank),
            "gap_to_leader": None if dc is None else float(leader_dc - dc),
            "gap_to_mean": None if dc is None else float(dc - mean),
            "weight_coverage": _f(r.weight_coverage), "sections_missing": r.sections_missing,
            "null_reason": r.null_reason,
        }
    tiers = scored["tier"].value_counts()
    return ok_block(
        project_id=int(rows["project_id"].iloc[0]), period=iso_date(latest), n_brands=int(len(scored)),
        n_brands_without_score=int(len(rows) - len(scored)), portfolio_mean=float(mean),
        portfolio_median=float(scored["dc_score"].median()),
        leader_brand_id=int(order["brand_id"].iloc[0]), laggard_brand_id=int(order["brand_id"].iloc[-1]),
        tier_thresholds=dict(TIER_FLOORS),
        tier_counts={t: int(tiers.get(t, 0)) for t in ("high", "medium", "low")},
        brands=brands,
    )


def _period_block(timeline: pd.DataFrame, name) -> dict[str, Any]:
    scored = timeline[timeline["dc_score"].notna()].sort_values(["brand_id", "period"])
    periods = sorted(scored["period"].unique())
    brands: dict[str, Any] = {}
    for brand_id, g in scored.groupby("brand_id", sort=True):
        dc = g["dc_score"].to_numpy(dtype=float)
        n = len(dc)
        sd = float(np.std(dc, ddof=1)) if n >= 2 else None
        mean = float(dc.mean())
        changes = np.diff(dc, prepend=np.nan)
        brands[str(brand_id)] = {
            "brand_id": int(brand_id), "brand_name": name(brand_id), "n_periods": n, "mean": mean,
            "median": float(np.median(dc)), "min": float(dc.min()), "max": float(dc.max()), "sd": sd,
            "consistency": None if sd is None or mean == 0 else 1.0 - sd / mean,
            "latest_period": iso_date(g["period"].iloc[-1]),
            "previous_period": iso_date(g["period"].iloc[-2]) if n >= 2 else None,
            "change_vs_previous": float(changes[-1]) if n >= 2 else None,
            "reason": None if n >= 2 else f"insufficient history: {n} period, 2 needed for sd and change",
            "series": [{"period": iso_date(p), "dc_score": float(v), "change": _f(c)}
                       for p, v, c in zip(g["period"], dc, changes)],
        }
    per_period = scored.groupby("period")["dc_score"].agg(["mean", "count"]).sort_index()
    portfolio = [{"period": iso_date(p), "mean": float(m), "n_brands": int(c), "change": _f(d)}
                 for (p, m, c), d in zip(per_period.itertuples(), per_period["mean"].diff())]
    values = dict(n_periods=len(periods), periods=[iso_date(p) for p in periods], sd_ddof=1,
                  portfolio=portfolio, brands=brands)
    longest = max(b["n_periods"] for b in brands.values())
    if longest < 2:
        return unavailable_block("insufficient_data",
                                 f"insufficient history: {longest} period, 2 needed for sd, consistency and change",
                                 longest, 2, **values)
    return ok_block(**values)


def _outlier_block(latest: dict[str, Any]) -> dict[str, Any]:
    scored = {k: b for k, b in latest["brands"].items() if b["dc_score"] is not None}
    if len(scored) < MIN_OUTLIER_BRANDS:
        return unavailable_block("insufficient_data",
                                 f"insufficient brands: {len(scored)} brands with a DC score, "
                                 f"{MIN_OUTLIER_BRANDS} needed for IQR outliers", len(scored), MIN_OUTLIER_BRANDS)
    dc = np.array([b["dc_score"] for b in scored.values()])
    q1, q3 = (float(q) for q in np.percentile(dc, [25, 75]))
    lower, upper = q1 - IQR_FENCE * (q3 - q1), q3 + IQR_FENCE * (q3 - q1)
    outliers = {}
    for key, b in scored.items():
        if b["dc_score"] < lower or b["dc_score"] > upper:
            high = b["dc_score"] > upper
            outliers[key] = {"brand_id": b["brand_id"], "brand_name": b["brand_name"], "dc_score": b["dc_score"],
                             "direction": "high" if high else "low", "fence": upper if high else lower,
                             "distance": abs(b["dc_score"] - (upper if high else lower))}
    return ok_block(method="iqr", fence_multiplier=IQR_FENCE, n_brands=len(scored), q1=q1, q3=q3, iqr=q3 - q1,
                    lower_fence=lower, upper_fence=upper, n_outliers=len(outliers), outliers=outliers)


def _metric_row(r, value: float, effort: float | None = None, with_effort: bool = False) -> dict[str, Any]:
    row = {"metric_id": int(r.metric_id), "metric_name": r.metric_name, "section": r.section_name,
           "platform": r.platform_name, "value": float(value), "directed_score": float(r.directed_score),
           "effective_weight": float(r.effective_weight)}
    if with_effort:
        row["effort_to_close"] = effort
    return row


def _contribution_block(scores: DcScores, project_id: int, latest: pd.Timestamp, brand_keys: list[str],
                        name, effort_costs: dict[int, float] | None) -> dict[str, Any]:
    ids = [int(k) for k in brand_keys]
    m = scores.metrics
    m = m[(m["project_id"] == project_id) & (m["period"] == latest) & m["brand_id"].isin(ids)]
    if m.empty:
        return unavailable_block("insufficient_data",
                                 f"no metric contributions for project {project_id} in {iso_date(latest)}", 0, 1)
    best = m.groupby("metric_id")["directed_score"].max()
    s = scores.sections
    s = s[(s["project_id"] == project_id) & (s["period"] == latest) & s["brand_id"].isin(ids)]
    section_table = s.pivot_table(index="brand_id", columns="section_name", values="contribution", aggfunc="sum")
    section_order = [x for x in SECTIONS if x in section_table.columns]
    brands: dict[str, Any] = {}
    for brand_id, g in m.groupby("brand_id", sort=True):
        top = g.sort_values(["contribution", "metric_id"], ascending=[False, True]).head(TOP_N)
        gaps = g.sort_values(["shortfall", "metric_id"], ascending=[False, True]).head(TOP_N)
        shortfalls = []
        for r in gaps.itertuples():
            cost = (effort_costs or {}).get(int(r.metric_id))
            effort = None if cost is None else float(effort_of(r.directed_score, 100.0 - r.directed_score, cost, best[r.metric_id]))
            shortfalls.append(_metric_row(r, r.shortfall, effort, with_effort=True))
        brands[str(brand_id)] = {
            "brand_id": int(brand_id), "brand_name": name(brand_id),
            "total_contribution": float(g["contribution"].sum()), "total_shortfall": float(g["shortfall"].sum()),
            "top_contributions": [_metric_row(r, r.contribution) for r in top.itertuples()],
            "top_shortfalls": shortfalls,
        }
    sections = {str(b): {sec: _f(section_table.loc[b, sec]) for sec in section_order}
                for b in section_table.index if str(b) in brands}
    return ok_block(period=iso_date(latest), top_n=TOP_N, section_order=section_order,
                    effort_basis="metrics.effort_cost with the §6c effort function, raising the metric to 100"
                    if effort_costs else None, brands=brands, sections=sections)


def _metric_detail_block(scores: DcScores, project_id: int, latest: pd.Timestamp, name) -> dict[str, Any]:
    m = scores.metrics
    m = m[(m["project_id"] == project_id) & (m["period"] == latest)].sort_values(["brand_id", "metric_id"])
    brands = {str(b): {"brand_id": int(b), "brand_name": name(b), "metrics": [
        {"metric_id": int(r.metric_id), "metric_name": r.metric_name, "section": r.section_name,
         "platform": r.platform_name, "directed_score": float(r.directed_score),
         "effective_weight": float(r.effective_weight), "contribution": float(r.contribution),
         "shortfall": float(r.shortfall)} for r in g.itertuples()]} for b, g in m.groupby("brand_id", sort=True)}
    return ok_block(period=iso_date(latest), brands=brands)


# ---------- insights and recommendations ----------

def _insight_candidates(root: dict[str, Any]) -> list[dict[str, Any]]:
    a = root["analysis"]
    out: list[dict[str, Any]] = []
    L = "/analysis/latest_period"
    latest = a["latest_period"]
    if latest["status"] == "ok":
        lead = join_pointer("analysis", "latest_period", "brands", latest["leader_brand_id"])
        out.append(insight("", "{brand} leads {period} with a DC score of {dc}, {gap} points above the "
                           "portfolio mean of {mean}.",
                           [cite(root, "brand", lead + "/brand_name"), cite(root, "period", L + "/period"),
                            cite(root, "dc", lead + "/dc_score"), cite(root, "gap", lead + "/gap_to_mean"),
                            cite(root, "mean", L + "/portfolio_mean")],
                           latest["brands"][str(latest["leader_brand_id"])]["gap_to_mean"] / 100))
        if latest["n_brands"] >= 2:
            lag = join_pointer("analysis", "latest_period", "brands", latest["laggard_brand_id"])
            out.append(insight("", "{brand} ranks {rank} of {n} in {period} with a DC score of {dc}, "
                               "{gap} points behind the leader {leader}.",
                               [cite(root, "brand", lag + "/brand_name"), cite(root, "rank", lag + "/rank", 0),
                                cite(root, "n", L + "/n_brands", 0), cite(root, "period", L + "/period"),
                                cite(root, "dc", lag + "/dc_score"), cite(root, "gap", lag + "/gap_to_leader"),
                                cite(root, "leader", lead + "/brand_name")],
                               latest["brands"][str(latest["laggard_brand_id"])]["gap_to_leader"] / 100))
    stats = a["period_statistics"]
    if stats["status"] == "ok":
        port = stats["portfolio"]
        if len(port) >= 2 and port[-1]["change"] is not None:
            P = "/analysis/period_statistics/portfolio"
            i, j = len(port) - 2, len(port) - 1
            out.append(insight("", "The portfolio mean DC moved from {m0} in {p0} to {m1} in {p1} ({delta} points).",
                               [cite(root, "m0", f"{P}/{i}/mean"), cite(root, "p0", f"{P}/{i}/period"),
                                cite(root, "m1", f"{P}/{j}/mean"), cite(root, "p1", f"{P}/{j}/period"),
                                cite(root, "delta", f"{P}/{j}/change", signed=True)],
                               abs(port[-1]["change"]) / 100))
        for key, b in stats["brands"].items():
            if b["change_vs_previous"] is None:
                continue
            B = join_pointer("analysis", "period_statistics", "brands", key)
            out.append(insight("", "{brand} changed by {delta} DC points from {p0} to {p1}, "
                               "reaching {dc}.",
                               [cite(root, "brand", B + "/brand_name"),
                                cite(root, "delta", B + "/change_vs_previous", signed=True),
                                cite(root, "p0", B + "/previous_period"), cite(root, "p1", B + "/latest_period"),
                                cite(root, "dc", f"{B}/series/{b['n_periods'] - 1}/dc_score")],
                               abs(b["change_vs_previous"]) / 100))
        rated = [(k, b) for k, b in stats["brands"].items() if b["consistency"] is not None]
        if len(rated) >= 2:
            key, b = min(rated, key=lambda kb: (kb[1]["consistency"], kb[0]))
            B = join_pointer("analysis", "period_statistics", "brands", key)
            out.append(insight("", "{brand} is the least consistent brand over {n} periods: consistency {c} "
                               "(sd {sd} around a mean of {mean}).",
                               [cite(root, "brand", B + "/brand_name"), cite(root, "n", B + "/n_periods", 0),
                                cite(root, "c", B + "/consistency", 3), cite(root, "sd", B + "/sd", 2),
                                cite(root, "mean", B + "/mean")],
                               1.0 - b["consistency"]))
    if a["outliers"]["status"] == "ok":
        for key, o in a["outliers"]["outliers"].items():
            O = join_pointer("analysis", "outliers", "outliers", key)
            out.append(insight("", "{brand} is a {direction} outlier at DC {dc}, {distance} points beyond the "
                               "IQR fence of {fence}.",
                               [cite(root, "brand", O + "/brand_name"), cite(root, "direction", O + "/direction"),
                                cite(root, "dc", O + "/dc_score"), cite(root, "distance", O + "/distance"),
                                cite(root, "fence", O + "/fence")],
                               o["distance"] / 100))
    if a["contributions"]["status"] == "ok":
        for key, b in a["contributions"]["brands"].items():
            if not b["top_shortfalls"]:
                continue
            S = join_pointer("analysis", "contributions", "brands", key, "top_shortfalls", 0)
            out.append(insight("", "{brand}'s largest shortfall is {metric} ({section}, {platform}): up to {gain} "
                               "DC points are available there.",
                               [cite(root, "brand", join_pointer("analysis", "contributions", "brands", key,
                                                                 "brand_name")),
                                cite(root, "metric", S + "/metric_name"), cite(root, "section", S + "/section"),
                                cite(root, "platform", S + "/platform"), cite(root, "gain", S + "/value")],
                               b["top_shortfalls"][0]["value"] / 100))
    return out


def _recommendations(root: dict[str, Any], n: int) -> list[dict[str, Any]]:
    block = root["analysis"]["contributions"]
    if block["status"] != "ok":
        return []
    rows = [(key, i, row) for key, b in block["brands"].items() for i, row in enumerate(b["top_shortfalls"])]
    # Each brand's largest shortfall first, so one brand cannot take every slot; then the rest by size.
    rows.sort(key=lambda t: (t[1] > 0, -t[2]["value"], t[2]["metric_id"], int(t[0])))
    out = []
    for key, i, row in rows[:n]:
        S = join_pointer("analysis", "contributions", "brands", key, "top_shortfalls", i)
        figures: list[Figure] = [
            cite(root, "metric", S + "/metric_name"), cite(root, "section", S + "/section"),
            cite(root, "platform", S + "/platform"),
            cite(root, "brand", join_pointer("analysis", "contributions", "brands", key, "brand_name")),
            cite(root, "score", S + "/directed_score"), cite(root, "gain", S + "/value")]
        template = ("Raise {metric} ({section}, {platform}) for {brand}: from a directed score of {score}, "
                    "closing the gap adds up to {gain} DC points")
        if row["effort_to_close"] is not None:
            figures.append(cite(root, "effort", S + "/effort_to_close"))
            template += " at an estimated effort of {effort} units"
        out.append(recommendation(
            "", template + ".", figures, brand_id=int(key), section=row["section"],
            expected_delta_dc=row["value"], effort=row["effort_to_close"], source=S,
            effort_reason=None if row["effort_to_close"] is not None
            else "effort not computed: metric effort costs were not given to this report",
            outcome_impact=None,
            outcome_impact_reason="no validated score-to-outcome model among this report's inputs"))
    return out


# ---------- charts ----------

def _charts(analysis: dict[str, Any], max_charts: int | None) -> dict[str, Any]:
    charts: dict[str, Any] = {}
    latest = analysis["latest_period"]
    if latest["status"] == "ok":
        ordered = list(latest["brands"].values())
        charts["dc_by_brand"] = visualization(
            "bar", f"DC score by brand, {latest['period']}",
            {"kind": "bar_bands", "labels": [b["brand_name"] for b in ordered],
             "values": [b["dc_score"] for b in ordered], "bands": sorted(TIER_FLOORS.values()),
             "y_label": "DC score"}, "/analysis/latest_period/brands")
    contrib = analysis["contributions"]
    if contrib["status"] == "ok" and contrib["sections"]:
        keys = [k for k in latest["brands"] if k in contrib["sections"]]
        charts["section_contributions"] = visualization(
            "bar", f"Section contributions to DC, {contrib['period']}",
            {"kind": "stacked_bar", "labels": [latest["brands"][k]["brand_name"] for k in keys],
             "series": {sec: [contrib["sections"][k].get(sec) for k in keys] for sec in contrib["section_order"]},
             "y_label": "DC points"}, "/analysis/contributions/sections")
    stats = analysis["period_statistics"]
    if stats.get("brands"):
        series = {}
        for b in stats["brands"].values():
            by_period = {p["period"]: p["dc_score"] for p in b["series"]}
            series[b["brand_name"]] = [by_period.get(p) for p in stats["periods"]]
        charts["dc_over_periods"] = visualization(
            "line", "DC score over periods", {"kind": "line", "x": stats["periods"], "series": series,
                                              "bands": sorted(TIER_FLOORS.values()), "y_label": "DC score"},
            "/analysis/period_statistics/brands")
    return dict(list(charts.items())[:max_charts]) if max_charts is not None else charts


# ---------- assembly ----------

def _data_quality(dq: dict[str, Any] | None, project_id: int) -> dict[str, Any]:
    if dq is None or dq.get("score") is None:
        return {"status": "missing_input", "reason": f"no data-quality score for project {project_id}"}
    out = dict(dq)
    out.setdefault("band", dq_band(float(dq["score"])))
    return out


def _no_data_reason(own: pd.DataFrame, project_id: int) -> str:
    if own.empty:
        return f"no normalized values for project {project_id}"
    nulls = own["null_reason"].dropna()
    why = f" (e.g. {nulls.iloc[0]})" if len(nulls) else ""
    return f"no DC score for project {project_id}: all {len(own)} brand-periods are null{why}"


def build_dc_score_performance_analysis(
    scores: DcScores, brand_names: dict[int, str], project: dict[str, Any], params: ReportParams,
    dq: dict[str, Any] | None = None, periods_expected: int | None = None, *,
    effort_costs: dict[int, float] | None = None, min_data_points: int = 10,
) -> dict[str, Any]:
    """The full §7.1 envelope except `system_metadata` (see `envelope.attach_system_metadata`).

    `scores` covers the member brands over the project's time line; `effort_costs` maps metric_id to
    `metrics.effort_cost` and lets recommendations quote effort.
    """
    spec = report_spec(REPORT_ID)
    project_id = int(project["project_id"])
    brands = scores.brands
    if params.brand_ids:
        brands = brands[brands["brand_id"].isin(params.brand_ids)]
    own = brands[brands["project_id"] == project_id]
    scored_own = own[own["dc_score"].notna()]

    def name(brand_id: Any) -> str:
        return brand_names.get(int(brand_id), f"brand {int(brand_id)}")

    minimum: list[dict[str, Any]] = []
    if scored_own.empty:
        text = _no_data_reason(own, project_id)
        blocks = ("latest_period", "period_statistics", "outliers", "contributions", "metric_detail")
        analysis = {b: unavailable_block("insufficient_data", text, 0, 1) for b in blocks}
        if params.analysis_depth != "detailed":
            analysis["metric_detail"] = skipped_block(params.analysis_depth, "detailed")
        minimum.append(reason("minimum_data_unmet", text, 0, 1))
        timeline = brands.iloc[0:0]
    else:
        latest = scored_own["period"].max()
        timeline = one_row_per_brand_period(brands, project_id, latest).sort_values(["brand_id", "period"])
        latest_block = _latest_block(own, latest, name)
        analysis = {
            "latest_period": latest_block,
            "period_statistics": _period_block(timeline, name),
            "outliers": _outlier_block(latest_block),
            "contributions": _contribution_block(scores, project_id, latest,
                                                 [k for k, b in latest_block["brands"].items()
                                                  if b["dc_score"] is not None], name, effort_costs),
            "metric_detail": _metric_detail_block(scores, project_id, latest, name)
            if params.analysis_depth == "detailed" else skipped_block(params.analysis_depth, "detailed"),
        }
        if latest_block["n_brands"] < spec.min_brands:
            minimum.append(reason("minimum_data_unmet", f"{latest_block['n_brands']} brands with a DC score, "
                                  f"{spec.min_brands} needed", latest_block["n_brands"], spec.min_brands))
    analysis = to_jsonable(analysis)
    root = {"analysis": analysis}
    ranked = sorted(enumerate(_insight_candidates(root)), key=lambda t: (-t[1]["priority"], t[0]))
    insights = renumber([c for _, c in ranked[:params.n_insights]], "I")
    recommendations = renumber(_recommendations(root, params.n_insights), "R")
    visualizations = to_jsonable(_charts(analysis, params.max_charts)) if params.include_visualizations and \
        not scored_own.empty else {}

    scored_tl = timeline[timeline["dc_score"].notna()]
    periods = sorted(scored_tl["period"].unique())
    dq_context = _data_quality(dq, project_id)
    dq_score = dq_context.get("score")
    seasonal = seasonal_period(str(project.get("period_grain", "month")))
    missing_inputs = []
    if dq_score is None:
        missing_inputs.append(dq_context["reason"])
    if effort_costs is None:
        missing_inputs.append("metric effort costs: recommendations carry no effort")
    if periods_expected is not None and len(periods) < periods_expected:
        missing_inputs.append(f"periods with DC scores: {len(periods)} of {periods_expected} expected")
    data_context = to_jsonable({
        "projects_analyzed": sorted(int(p) for p in scored_tl["project_id"].unique()),
        "brands_analyzed": sorted(int(b) for b in scored_tl["brand_id"].unique()),
        "periods": {"first": iso_date(periods[0]) if periods else None,
                    "last": iso_date(periods[-1]) if periods else None, "n": len(periods),
                    "expected": periods_expected},
        "observations": int(len(scored_tl)),
        "data_quality": dq_context,
        "confidence": confidence(dq_score, len(scored_tl), full_analysis_need(spec, min_data_points, seasonal),
                                 validation_ok=True),
        "missing_inputs": missing_inputs,
    })
    envelope = {
        "report_id": spec.report_id, "title": spec.title, "category": spec.category,
        "analysis": analysis, "key_insights": insights, "strategic_recommendations": recommendations,
        "visualizations": visualizations, "data_context": data_context,
        "health": health(analysis=analysis, minimum_problems=minimum, dq_score=dq_score,
                         quarantined_rows=dq_context.get("quarantined_rows")),
    }
    envelope["executive_summary"] = executive_summary(envelope)
    return envelope
