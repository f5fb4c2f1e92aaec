"""Metric-definition rules: V4 (valid definition), U2 (unique definition key), K4 (API weights and
metric_type agreement across projects). All three are project-level: their units carry no brand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.source_tables import METRIC_TYPES, SECTIONS
from dc_pipeline_tests.domain.quality.per_project_oracle.tally import RuleRows, default_describe, tally_units

DEFINITION_KEY = ("section_name", "platform_name", "metric_name")


@dataclass(frozen=True)
class MetricVerdicts:
    table: pd.DataFrame  # one row per metric_id: metric_id, project_id, section_name, ..., active, v4_reason, u2_reason
    results: list[RuleRows]

    @property
    def usable(self) -> pd.DataFrame:
        """Active metrics of the project passing V4 and U2: the only ones rows may score against."""
        t = self.table
        return t[t["active"] & t["v4_reason"].isna() & t["u2_reason"].isna()]


def _prepare(metrics: pd.DataFrame, project_id: int | None) -> pd.DataFrame:
    table = metrics.copy()
    for col in (
        "metric_id",
        "project_id",
        "section_name",
        "platform_name",
        "metric_name",
        "metric_type",
        "weight",
        "effort_cost",
        "is_active",
    ):
        if col not in table:
            table[col] = np.nan if col in ("weight", "effort_cost") else None
    table["metric_id"] = pd.to_numeric(table["metric_id"], errors="coerce")
    table = table[table["metric_id"].notna()].drop_duplicates("metric_id", keep="first")
    table["metric_id"] = table["metric_id"].astype("int64")
    table["project_id"] = pd.to_numeric(table["project_id"], errors="coerce")
    if project_id is not None:
        table = table[table["project_id"].isna() | (table["project_id"] == project_id)]
    table["weight"] = pd.to_numeric(table["weight"], errors="coerce").astype("float64")
    table["effort_cost"] = pd.to_numeric(table["effort_cost"], errors="coerce").astype("float64")
    # A null is_active takes the table default (true); only an explicit false deactivates.
    table["active"] = ~table["is_active"].astype(object).isin([False, 0, "false", "f", "False"])
    return table.sort_values("metric_id").reset_index(drop=True)


def _v4_reasons(table: pd.DataFrame) -> pd.Series:
    problems = {
        "section_name not one of the four sections": ~table["section_name"].isin(SECTIONS),
        "metric_type not maximize/minimize": ~table["metric_type"].isin(METRIC_TYPES),
        "weight not a finite number >= 0": ~(np.isfinite(table["weight"]) & (table["weight"] >= 0)),
        "effort_cost not a finite number > 0": ~(np.isfinite(table["effort_cost"]) & (table["effort_cost"] > 0)),
    }
    reasons = pd.Series("", index=table.index, dtype=object)
    for text, bad in problems.items():
        reasons = reasons + np.where(bad.to_numpy(), text + "; ", "")
    reasons = reasons.str.removesuffix("; ")
    return reasons.where(reasons != "", None)


def _u2(table: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Duplicate definition keys: the lowest metric_id is kept, later ids are excluded."""
    keys = table[list(DEFINITION_KEY)].astype(object).where(table[list(DEFINITION_KEY)].notna(), "<null>")
    first = ~keys.duplicated(keep="first")
    in_dup_key = keys.duplicated(keep=False)
    kept_id = table.groupby([keys[c] for c in DEFINITION_KEY], sort=False)["metric_id"].transform("min")
    reasons = pd.Series(None, index=table.index, dtype=object)
    excluded = in_dup_key & ~first
    reasons[excluded] = "same (section, platform, name) as kept metric_id " + kept_id[excluded].astype(str)
    key_units = pd.DataFrame({"passed": ~in_dup_key[first]})
    return reasons, key_units


def _k4(
    table: pd.DataFrame,
    api_weights: pd.DataFrame | None,
    other_project_metrics: pd.DataFrame | None,
    project_id: int | None,
) -> RuleRows:
    passed: list[np.ndarray] = []
    notes: list[str] = []
    if api_weights is not None and len(api_weights):
        api = api_weights.assign(
            metric_id=pd.to_numeric(api_weights["metric_id"], errors="coerce"),
            api_weight=pd.to_numeric(api_weights["weight"], errors="coerce"),
        )
        api = api.dropna(subset=["metric_id"]).drop_duplicates("metric_id")[["metric_id", "api_weight"]]
        both = table[["metric_id", "weight"]].merge(api, on="metric_id", how="inner")
        ok = np.isclose(both["weight"], both["api_weight"], rtol=1e-9, atol=1e-9) & both["api_weight"].notna()
        passed.append(ok.to_numpy())
        notes.append(f"{int((~ok).sum())} of {len(both)} API weights differ from metrics.weight")
    else:
        notes.append("API weights unavailable")
    if other_project_metrics is not None and len(other_project_metrics):
        others = other_project_metrics.copy()
        others["project_id"] = pd.to_numeric(others.get("project_id"), errors="coerce")
        if project_id is not None:
            others = others[others["project_id"] != project_id]
        key = list(DEFINITION_KEY)
        types = others.dropna(subset=key).groupby(key)["metric_type"].agg(lambda s: frozenset(s.dropna()))
        mine = table.dropna(subset=key).join(types.rename("other_types"), on=key, how="inner")
        ok = np.array([other <= {mt} for mt, other in zip(mine["metric_type"], mine["other_types"])], dtype=bool)
        passed.append(ok)
        notes.append(f"{int((~ok).sum())} of {len(ok)} metrics shared with other projects disagree on metric_type")
    else:
        notes.append("other projects' metrics unavailable")
    all_passed = np.concatenate(passed) if passed else np.array([], dtype=bool)
    message = "; ".join(notes)
    return tally_units("K4", None, all_passed, lambda f, u: message, f"no K4 units: {message}")


def assess_metrics(
    metrics: pd.DataFrame, project_id: int | None, api_weights=None, other_project_metrics=None
) -> MetricVerdicts:
    table = _prepare(metrics, project_id)
    table["v4_reason"] = _v4_reasons(table)
    table["u2_reason"], u2_keys = _u2(table)
    v4 = tally_units(
        "V4",
        None,
        table["v4_reason"].isna().to_numpy(),
        default_describe("V4", "invalid (section, metric_type, weight >= 0, effort_cost > 0)"),
        "no metric definitions for the project",
    )
    u2 = tally_units(
        "U2",
        None,
        u2_keys["passed"].to_numpy(),
        default_describe("U2", "shared by more than one metric_id"),
        "no metric definitions for the project",
    )
    k4 = _k4(table, api_weights, other_project_metrics, project_id)
    return MetricVerdicts(table, [v4, u2, k4])
