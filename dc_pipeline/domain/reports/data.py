"""`ReportData`: everything a report may read, as in-memory frames (the input contract of the builders).

The Postgres loader reads only what a builder `needs` (names in INPUTS) and calls
`report_data_from_frames`; tests and the bench call it with frames built in memory. Optional
inputs are None when not loaded or absent upstream."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from dc_pipeline.domain.memo import remembered
from dc_pipeline.domain.scoring import DcScores
from dc_pipeline.domain.timeline import series_projects

# What a builder may declare in `needs`; scores, project, time line and members are always read.
INPUTS: frozenset[str] = frozenset(
    {"scores", "outcomes", "metrics", "dq", "outcome_models", "forecasts", "recommendations", "robustness",
     "portfolio", "refresh"}
)  # fmt: skip
# Stored table names of the model outputs (defs/models/*_assets.py), the keys of the dict inputs.
FORECAST_TABLES = ("brand_forecasts", "brand_forecast_summaries", "brand_forecast_coherence")
RECOMMENDATION_TABLES = ("brand_recommendation_plans", "brand_recommendation_summaries")
ROBUSTNESS_TABLES = (
    "robustness_monte_carlo",
    "robustness_geometric",
    "robustness_loso",
    "robustness_driver",
    "robustness_weights",
    "robustness_correlations",
)
BRAND_COLUMNS = ("brand_id", "brand_name", "role", "weight")


@dataclass(frozen=True)
class ReportData:
    project: dict[str, Any]  # the projects row
    timeline: tuple[int, ...]  # project ids of the time line (SPEC §2), the project itself last or among them
    brands: pd.DataFrame  # member brands: BRAND_COLUMNS
    scores: DcScores  # member brands over the time line
    outcomes: pd.DataFrame | None = None  # validated_outcomes rows over the time line
    metrics: pd.DataFrame | None = None  # metric definitions over the time line (effort_cost, metric_type, ...)
    dq: dict[str, Any] | None = None  # {score, band, per_brand, quarantined_rows}
    outcome_models: pd.DataFrame | None = None  # dc_models.outcome_model_results of the project
    forecasts: dict[str, pd.DataFrame] | None = None  # FORECAST_TABLES
    recommendations: dict[str, pd.DataFrame] | None = None  # RECOMMENDATION_TABLES
    robustness: dict[str, pd.DataFrame] | None = None  # ROBUSTNESS_TABLES
    portfolio: dict[str, pd.DataFrame] | None = None  # portfolio/tables.PORTFOLIO_TABLES (portfolio_analysis, §8)
    refresh: pd.DataFrame | None = None  # rank_history rows the refresh that wrote the stored scores recorded

    @property
    def project_id(self) -> int:
        return int(self.project["project_id"])

    @property
    def grain(self) -> str:
        return str(self.project.get("period_grain") or "month")

    @property
    def months_per_period(self) -> int:
        return 3 if self.grain == "quarter" else 1

    def brand_names(self) -> dict[int, str]:
        return {int(r.brand_id): str(r.brand_name) for r in self.brands.itertuples()}

    def scoped(self, brand_ids) -> ReportData:
        """The same data restricted to a brand subset (ad-hoc `brand_ids`)."""
        if not brand_ids:
            return self
        keep = {int(b) for b in brand_ids}
        return replace(
            self,
            brands=self.brands[self.brands["brand_id"].isin(keep)].reset_index(drop=True),
            scores=_filter_scores(self.scores, keep),
            outcomes=None if self.outcomes is None else self.outcomes[self.outcomes["brand_id"].isin(keep)],
        )


def _filter_scores(scores: DcScores, brand_ids: set[int], project_ids: set[int] | None = None) -> DcScores:
    def cut(frame: pd.DataFrame) -> pd.DataFrame:
        mask = frame["brand_id"].isin(brand_ids)
        if project_ids is not None:
            mask &= frame["project_id"].isin(project_ids)
        return frame[mask]

    return DcScores(**{name: cut(frame) for name, frame in vars(scores).items()})


def _rows_of(frame: pd.DataFrame | None, column: str, ids) -> pd.DataFrame | None:
    if frame is None:
        return None
    if column not in frame.columns:  # nothing stored yet: a table that was never materialized reads as empty
        return frame
    return frame[frame[column].isin(list(ids))].reset_index(drop=True)


def _fresh(value):
    """A copy of a cut input for one ReportData: shallow frames (copy-on-write, so a builder that changes its
    frames changes only its own), new dicts and DcScores."""
    if isinstance(value, pd.DataFrame):
        return value.copy(deep=False)
    if isinstance(value, DcScores):
        return DcScores(**{name: frame.copy(deep=False) for name, frame in vars(value).items()})
    if isinstance(value, dict):
        return {name: _fresh(v) for name, v in value.items()}
    return value


def report_data_from_frames(
    project_id: int,
    *,
    projects: pd.DataFrame,
    project_brands: pd.DataFrame,
    brands: pd.DataFrame,
    scores: DcScores,
    outcomes: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    dq: dict[str, Any] | None = None,
    outcome_models: pd.DataFrame | None = None,
    forecasts: dict[str, pd.DataFrame] | None = None,
    recommendations: dict[str, pd.DataFrame] | None = None,
    robustness: dict[str, pd.DataFrame] | None = None,
    portfolio: dict[str, pd.DataFrame] | None = None,
    refresh: pd.DataFrame | None = None,
    cuts: dict[str, Any] | None = None,
) -> ReportData:
    """ReportData of one project from reference frames (projects, project_brands, brands) and stored outputs;
    frames may hold more projects or brands than the project's: they are cut to its time line and members.

    `cuts`: a memo of this project's cut inputs, for a caller that builds several reports of the project from the
    same frames (a report run): each input is cut once, and every ReportData gets its own copies (_fresh). The
    caller keeps one memo per project and set of frames; an input passed as None is never cut."""
    memo: dict[str, Any] = {} if cuts is None else cuts

    def once(name: str, cut):
        return _fresh(remembered(memo, name, cut))

    def project_rows():
        row = projects[projects["project_id"] == project_id]
        if row.empty:
            raise KeyError(f"project {project_id} is not in the projects frame: load the reference snapshot first")
        members = project_brands[project_brands["project_id"] == project_id]
        member_rows = members.merge(brands.loc[:, ["brand_id", "brand_name"]], on="brand_id", how="left")
        names = member_rows["brand_name"].fillna(member_rows["brand_id"].map(lambda b: f"brand {b}"))
        member_rows["brand_name"] = names
        if "weight" not in member_rows:
            member_rows["weight"] = 1.0
        member_rows = member_rows.loc[:, list(BRAND_COLUMNS)].sort_values("brand_id").reset_index(drop=True)
        return row.iloc[0].to_dict(), tuple(series_projects(projects, project_id)), member_rows

    row, timeline, member_rows = remembered(memo, "project", project_rows)
    member_ids = set(member_rows["brand_id"].astype(int))

    def own(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        return {name: _rows_of(frame, "project_id", [project_id]) for name, frame in frames.items()}

    def cut_outcomes():
        cut = outcomes[outcomes["project_id"].isin(timeline) & outcomes["brand_id"].isin(member_ids)]
        return cut.assign(period=pd.to_datetime(cut["period"])).reset_index(drop=True)

    cutters = {
        "outcomes": (outcomes, cut_outcomes),
        "metrics": (metrics, lambda: _rows_of(metrics, "project_id", timeline)),
        "outcome_models": (outcome_models, lambda: _rows_of(outcome_models, "project_id", [project_id])),
        "forecasts": (forecasts, lambda: own(forecasts)),
        "recommendations": (recommendations, lambda: own(recommendations)),
        "robustness": (robustness, lambda: own(robustness)),
        "portfolio": (portfolio, lambda: own(portfolio)),
        "refresh": (refresh, lambda: _rows_of(refresh, "project_id", [project_id])),
    }
    return ReportData(
        project=dict(row),
        timeline=timeline,
        brands=member_rows.copy(deep=False),
        scores=once("scores", lambda: _filter_scores(scores, member_ids, set(timeline))),
        dq=dq,
        **{name: None if frame is None else once(name, cut) for name, (frame, cut) in cutters.items()},
    )
