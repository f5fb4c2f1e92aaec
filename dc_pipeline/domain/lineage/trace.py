"""Which stored DC quantity a figure is (DC score, section score, section contribution or metric contribution of one
brand-period), and its recomputation from the source rows behind it with the SPEC §4 score."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dc_pipeline.domain.lineage.about import About
from dc_pipeline.domain.scoring import DcScores, compute_dc_scores
from dc_pipeline.domain.settings import ScoringConfig

KINDS = ("dc_score", "section_score", "section_contribution", "metric_contribution")
# A figure is the stored value when they agree to this relative tolerance (the envelope stores floats as JSON).
EXACT = 1e-9
SOURCE_COLUMNS = ["id", "metric_id", "metric_name", "section_name", "platform_name", "normalized_value",
                  "metric_type", "weight", "directed_score", "effective_weight", "contribution"]  # fmt: skip


@dataclass(frozen=True)
class Quantity:
    kind: str  # one of KINDS
    project_id: int
    brand_id: int
    period: pd.Timestamp
    stored: float
    section: str | None = None
    metric_id: int | None = None

    def describe(self, brand_name: str | None = None) -> str:
        what = {"dc_score": "DC score", "section_score": f"{self.section} section score",
                "section_contribution": f"{self.section} contribution to the DC",
                "metric_contribution": f"metric {self.metric_id} contribution to the DC"}[self.kind]  # fmt: skip
        who = f"{brand_name} (brand {self.brand_id})" if brand_name else f"brand {self.brand_id}"
        return f"{what} of {who} in {self.period.date().isoformat()} (project {self.project_id})"


def same(a: float, b: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=EXACT, abs_tol=EXACT)


def stored_quantities(scores: DcScores, brand_id: int, period: str) -> list[Quantity]:
    """Every DC quantity stored for one brand-period (any project of `scores`)."""
    when = pd.Timestamp(period)
    out: list[Quantity] = []

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["brand_id"] == brand_id) & (pd.to_datetime(frame["period"]) == when)]

    for r in rows(scores.brands).dropna(subset=["dc_score"]).itertuples():
        out.append(Quantity("dc_score", int(r.project_id), brand_id, when, float(r.dc_score)))
    for r in rows(scores.sections).itertuples():
        for kind, value in (("section_score", r.section_score), ("section_contribution", r.contribution)):
            if pd.notna(value):
                out.append(Quantity(kind, int(r.project_id), brand_id, when, float(value), section=r.section_name))
    for r in rows(scores.metrics).dropna(subset=["contribution"]).itertuples():
        out.append(Quantity("metric_contribution", int(r.project_id), brand_id, when, float(r.contribution),
                            section=r.section_name, metric_id=int(r.metric_id)))  # fmt: skip
    return out


def identify(about: About, stored: list[Quantity], project_id: int | None = None) -> Quantity | None:
    """The stored quantity equal to the figure, narrowed by what the figure says it is about (section, metric) and,
    between equal values, by the words of its pointer ('contribution', 'score'), then by the report's own project
    (a brand scored in two projects could score the same)."""
    if not isinstance(about.value, (int, float)) or isinstance(about.value, bool):
        return None
    matches = [q for q in stored if same(q.stored, about.value)]
    if about.metric_id is not None:
        matches = [q for q in matches if q.metric_id == about.metric_id]
    elif about.section is not None:
        matches = [q for q in matches if q.section == about.section]
    words = " ".join(about.tokens[-2:])
    preference = [k for k in KINDS if k.split("_")[-1] in words] + list(KINDS)
    ranked = sorted(matches, key=lambda q: (preference.index(q.kind), q.project_id != project_id))
    return ranked[0] if ranked else None


@dataclass(frozen=True)
class Recomputation:
    rows: pd.DataFrame  # SOURCE_COLUMNS: the source rows the quantity rests on, with their score terms
    value: float | None  # the quantity recomputed from the source rows
    exact: bool  # equal to the figure (EXACT)


def recompute(quantity: Quantity, figure: float, values: pd.DataFrame, metrics: pd.DataFrame,
              config: ScoringConfig) -> Recomputation:  # fmt: skip
    """The quantity from the brand-period's source value rows (normalisedvalue: id, project_id, brand_id, metric_id,
    period, normalized_value) and the project's metric definitions, scored again (SPEC §4)."""
    scores = compute_dc_scores(values, metrics, config)
    m = scores.metrics.merge(values[["metric_id", "id", "normalized_value"]], on="metric_id", how="left")
    m = m.merge(metrics[["metric_id", "metric_type", "weight"]], on="metric_id", how="left")
    if quantity.kind == "metric_contribution":
        m = m[m["metric_id"] == quantity.metric_id]
    elif quantity.kind != "dc_score":
        m = m[m["section_name"] == quantity.section]
    value = _value(quantity, scores, m)
    rows = m.loc[:, SOURCE_COLUMNS].sort_values(["section_name", "platform_name", "metric_id"], ignore_index=True)
    return Recomputation(rows, value, value is not None and same(value, figure))


def _value(quantity: Quantity, scores: DcScores, metric_rows: pd.DataFrame) -> float | None:
    if quantity.kind == "dc_score":
        found = scores.brands["dc_score"].dropna()
    elif quantity.kind == "section_score":
        found = scores.sections.loc[scores.sections["section_name"] == quantity.section, "section_score"]
    else:  # a contribution is the sum of its metrics' c_m (SPEC §4 identities)
        found = metric_rows["contribution"].dropna()
        return float(found.sum()) if len(found) else None
    return float(found.iloc[0]) if len(found) else None


def changed_since_validation(validated: pd.DataFrame, source: pd.DataFrame) -> list[int]:
    """Ids of source rows whose value differs from the validated copy dc_scores read, or which are gone since."""
    then = validated.set_index(validated["id"].astype(int))["normalized_value"]
    now = source.set_index(source["id"].astype(int))["normalized_value"].reindex(then.index)
    kept = then.index.isin(source["id"].astype(int)) & (then.eq(now) | (then.isna() & now.isna())).to_numpy()
    return sorted(int(i) for i in then.index[~kept])
