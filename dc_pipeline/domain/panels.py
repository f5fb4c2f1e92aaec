"""Panels the models read (SPEC §2 time line, §6): one row per brand-period of DC, sections and outcomes, and
one brand's latest-period metric rows for the optimizer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS
from dc_pipeline.domain.timeline import one_row_per_brand_period

OBS_KEYS = ["brand_id", "period"]
DECISION_COLUMNS = ["brand_id", "period", "metric_id", "metric_name", "section_name", "platform_name",
                    "directed_score", "effective_weight", "effort_cost", "best_score"]  # fmt: skip


def section_columns(sections: pd.DataFrame) -> pd.DataFrame:
    """project_id, brand_id, period and the first non-null score of each section. Once merged onto the brand
    rows this is what pivot_table(aggfunc="first") gave (its dropped all-null rows and columns come back as NaN),
    at half its cost."""
    keys = ["project_id", *OBS_KEYS, "section_name"]
    return sections.groupby(keys)["section_score"].first().unstack("section_name").reset_index()


def score_panel(scores: DcScores, project_id: int) -> pd.DataFrame:
    """brand_id, period, dc and the four section scores (NaN where undefined), one row per brand-period."""
    brands = scores.brands.loc[:, ["project_id", *OBS_KEYS, "dc_score"]].rename(columns={"dc_score": "dc"})
    if brands.empty:
        return pd.DataFrame(columns=[*OBS_KEYS, "dc", *SECTIONS])
    panel = brands.merge(section_columns(scores.sections), on=["project_id", *OBS_KEYS], how="left")
    for section in SECTIONS:
        if section not in panel.columns:
            panel[section] = np.nan
    panel["period"] = pd.to_datetime(panel["period"])
    panel = one_row_per_brand_period(panel, project_id)
    return panel.loc[:, [*OBS_KEYS, "dc", *SECTIONS]].sort_values(OBS_KEYS).reset_index(drop=True)


def outcome_observations(scores: DcScores, outcomes: pd.DataFrame, project_id: int) -> pd.DataFrame:
    """brand_id, period, dc, SECTIONS and every outcome column (NaN when not reported)."""
    panel = score_panel(scores, project_id)
    present = [c for c in OUTCOME_COLUMNS if c in outcomes.columns]
    own = one_row_per_brand_period(outcomes.loc[:, ["project_id", *OBS_KEYS, *present]], project_id)
    obs = panel.merge(own.drop(columns="project_id"), on=OBS_KEYS, how="left")
    for column in OUTCOME_COLUMNS:
        if column not in obs.columns:
            obs[column] = np.nan
        obs[column] = pd.to_numeric(obs[column], errors="coerce").astype(float)
    return obs


def brand_series(obs: pd.DataFrame, brand_id: int) -> dict[str, pd.Series]:
    """DC, section and outcome series of one brand, indexed by period."""
    own = obs[obs["brand_id"] == brand_id].set_index("period").sort_index()
    return {c: own[c].astype(float) for c in ["dc", *SECTIONS, *OUTCOME_COLUMNS]}


def latest_metric_rows(scores: DcScores, metrics: pd.DataFrame, project_id: int, brand_id: int) -> pd.DataFrame:
    """The brand's metrics at its latest scored period in the project (SPEC §6c decision rows), with
    `best_score`: the best directed score of the metric among the project's brands in that period."""
    rows = project_latest_metric_rows(scores, metrics, project_id, [brand_id])
    return rows.reset_index(drop=True)


def project_latest_metric_rows(
    scores: DcScores, metrics: pd.DataFrame, project_id: int, brand_ids=None
) -> pd.DataFrame:
    """`latest_metric_rows` of every brand of the project (or of `brand_ids`) at once."""
    rows = scores.metrics[scores.metrics["project_id"] == project_id]
    own = rows if brand_ids is None else rows[rows["brand_id"].isin(list(brand_ids))]
    if own.empty:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    own = own[own["period"] == own.groupby("brand_id")["period"].transform("max")]
    cohort = rows[rows["period"].isin(own["period"].unique())]
    best = cohort.groupby(["period", "metric_id"])["directed_score"].max().rename("best_score").reset_index()
    latest = own.merge(best, on=["period", "metric_id"], how="left")
    costs = metrics.loc[metrics["project_id"] == project_id, ["metric_id", "effort_cost"]].drop_duplicates("metric_id")
    latest = latest.merge(costs, on="metric_id", how="left")
    return latest.loc[:, DECISION_COLUMNS].reset_index(drop=True)


def outcome_effect(results: pd.DataFrame, target: str = "revenue") -> dict | None:
    """The outcome per DC point of a project's fitted `target` model (a row of outcome_model_results), for
    plans to quote; None when there is no fitted model. `validated` says whether plans may quote it."""
    if results.empty:
        return None
    row = results[(results["target"] == target) & (results["status"] == "ok")]
    if row.empty or pd.isna(row["effect_estimate"].iloc[0]):
        return None
    r = row.iloc[0]
    return {
        "validated": bool(r["validated"]),
        "estimate": float(r["effect_estimate"]),
        "ci_low": float(r["effect_ci_low"]),
        "ci_high": float(r["effect_ci_high"]),
        "level": float(r["effect_level"]),
        "outcome": target,
        "model_id": r["model_id"],
    }
