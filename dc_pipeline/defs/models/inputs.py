"""What the model assets read: scores and outcomes over a project's time line, one brand's
latest-period metric rows, the validated revenue model (SPEC §2 time line, §6)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from dc_pipeline.defs.io_manager import frame_data_version, read_table
from dc_pipeline.defs.reports.inputs import read_metrics, read_scores
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS, SECTIONS
from dc_pipeline.domain.timeline import one_row_per_brand_period, series_projects

OBS_KEYS = ["brand_id", "period"]


def member_brands(reference: dict[str, pd.DataFrame], project_id: int) -> list[int]:
    members = reference["ref_project_brands"]
    return sorted(int(b) for b in members.loc[members["project_id"] == project_id, "brand_id"])


def project_row(reference: dict[str, pd.DataFrame], project_id: int) -> dict:
    projects = reference["ref_projects"]
    return projects[projects["project_id"] == project_id].iloc[0].to_dict()


def version_hex(frame: pd.DataFrame) -> str:
    """The sha256 hex of a frame's canonical rows (the part study names and registry keep)."""
    return frame_data_version(frame).split(":", 1)[1]


def combined_version(*versions: str) -> str:
    return hashlib.sha256("|".join(versions).encode()).hexdigest()


def timeline_scores(conn, reference: dict[str, pd.DataFrame], project_id: int) -> DcScores:
    """DC, section, platform and metric scores of the project's member brands over its time line."""
    timeline = series_projects(reference["ref_projects"], project_id)
    members = set(member_brands(reference, project_id))
    scores = read_scores(conn, timeline)
    return DcScores(**{name: frame[frame["brand_id"].isin(members)] if "brand_id" in frame else frame
                       for name, frame in vars(scores).items()})


def timeline_outcomes(conn, reference: dict[str, pd.DataFrame], project_id: int) -> pd.DataFrame:
    timeline = series_projects(reference["ref_projects"], project_id)
    members = member_brands(reference, project_id)
    outcomes = read_table(conn, "dc_core.validated_outcomes", {"project_id": timeline, "brand_id": members})
    if outcomes.empty:
        return pd.DataFrame(columns=["project_id", *OBS_KEYS, *OUTCOME_COLUMNS])
    outcomes["period"] = pd.to_datetime(outcomes["period"])
    return outcomes


def score_panel(scores: DcScores, project_id: int) -> pd.DataFrame:
    """brand_id, period, dc and the four section scores (NaN where undefined), one row per brand-period."""
    brands = scores.brands.loc[:, ["project_id", *OBS_KEYS, "dc_score"]].rename(columns={"dc_score": "dc"})
    if brands.empty:
        return pd.DataFrame(columns=[*OBS_KEYS, "dc", *SECTIONS])
    sections = scores.sections.pivot_table(index=["project_id", *OBS_KEYS], columns="section_name",
                                           values="section_score", aggfunc="first").reset_index()
    panel = brands.merge(sections, on=["project_id", *OBS_KEYS], how="left")
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


def latest_metric_rows(scores: DcScores, metrics: pd.DataFrame, project_id: int, brand_id: int) -> pd.DataFrame:
    """The brand's metrics at its latest scored period in the project (SPEC §6c decision rows):
    metric_id, metric_name, section_name, platform_name, directed_score, effective_weight,
    effort_cost, best_score (the best directed score of the metric among the project's brands)."""
    rows = scores.metrics[scores.metrics["project_id"] == project_id]
    own = rows[rows["brand_id"] == brand_id]
    if own.empty:
        return pd.DataFrame(columns=["brand_id", "period", "metric_id", "metric_name", "section_name", "platform_name",
                                     "directed_score", "effective_weight", "effort_cost", "best_score"])
    period = own["period"].max()
    cohort = rows[rows["period"] == period]
    best = cohort.groupby("metric_id")["directed_score"].max().rename("best_score")
    latest = own[own["period"] == period].merge(best, on="metric_id", how="left")
    costs = metrics.loc[metrics["project_id"] == project_id, ["metric_id", "effort_cost"]].drop_duplicates("metric_id")
    latest = latest.merge(costs, on="metric_id", how="left")
    return latest.loc[:, ["brand_id", "period", "metric_id", "metric_name", "section_name", "platform_name",
                          "directed_score", "effective_weight", "effort_cost", "best_score"]].reset_index(drop=True)


def read_project_metrics(conn, project_id: int) -> pd.DataFrame:
    return read_metrics(conn, [project_id])


def validated_outcome_effect(conn, project_id: int, target: str = "revenue") -> dict | None:
    """outcome_per_dc_point of the project's current `target` model, for recommend(); None when
    there is no fitted model. `validated` says whether plans may quote it."""
    results = read_table(conn, "dc_models.outcome_model_results", {"project_id": [project_id]})
    if results.empty:
        return None
    row = results[(results["target"] == target) & (results["status"] == "ok")]
    if row.empty or pd.isna(row["effect_estimate"].iloc[0]):
        return None
    r = row.iloc[0]
    return {"validated": bool(r["validated"]), "estimate": float(r["effect_estimate"]),
            "ci_low": float(r["effect_ci_low"]), "ci_high": float(r["effect_ci_high"]),
            "level": float(r["effect_level"]), "outcome": target, "model_id": r["model_id"]}
