"""Metric-definition rules: V4 (valid definition), U2 (unique definition key), K4 (API weights and
metric_type agreement across projects). All three are project-level: their units carry no brand.
The run's metric rows carry `p`, the position of the project they are assessed for."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.quality.keys import PairIndex, codes_of, group_codes
from dc_pipeline.domain.quality.tally import RuleRows, counted, tally_units
from dc_pipeline.domain.source_tables import METRIC_TYPES, SECTIONS

DEFINITION_KEY = ("section_name", "platform_name", "metric_name")
_PREPARED_COLUMNS = (
    "metric_id",
    "project_id",
    "section_name",
    "platform_name",
    "metric_name",
    "metric_type",
    "weight",
    "effort_cost",
    "is_active",
)


@dataclass(frozen=True)
class MetricVerdicts:
    table: pd.DataFrame  # one row per (p, metric_id), sorted: metric columns, active, v4_reason, u2_reason
    p: np.ndarray  # project position of each table row
    results: list[RuleRows]
    n_projects: int

    def find(self, p: np.ndarray, metric_codes: np.ndarray, metrics: np.ndarray) -> np.ndarray:
        """Table row of each (project, metric id), the ids given as codes into `metrics`; -1 when the
        project defines no such metric."""
        # The table is sorted by (p, metric_id) without repeats: a pair's position is its table row.
        pairs = PairIndex(self.p, self.table["metric_id"].to_numpy(dtype="float64"), n_projects=self.n_projects)
        return pairs.find_coded(p, metric_codes, metrics)

    @property
    def usable(self) -> np.ndarray:
        """Active metrics of the project passing V4 and U2: the only ones rows may score against."""
        t = self.table
        return (t["active"] & t["v4_reason"].isna() & t["u2_reason"].isna()).to_numpy(dtype=bool)


def _prepare(metrics: pd.DataFrame, p: np.ndarray, project_ids: np.ndarray) -> pd.DataFrame:
    table = metrics.copy()
    for col in _PREPARED_COLUMNS:
        if col not in table:
            table[col] = np.nan if col in ("weight", "effort_cost") else None
    table["_p"] = np.asarray(p, dtype="int64")
    table["metric_id"] = pd.to_numeric(table["metric_id"], errors="coerce")
    table = table[table["metric_id"].notna()].drop_duplicates(["_p", "metric_id"], keep="first")
    table["metric_id"] = table["metric_id"].astype("int64")
    table["project_id"] = pd.to_numeric(table["project_id"], errors="coerce")
    own = project_ids[table["_p"].to_numpy()]
    table = table[(np.isnan(own) | table["project_id"].isna() | (table["project_id"] == own)).to_numpy()]
    table["weight"] = pd.to_numeric(table["weight"], errors="coerce").astype("float64")
    table["effort_cost"] = pd.to_numeric(table["effort_cost"], errors="coerce").astype("float64")
    # A null is_active takes the table default (true); only an explicit false deactivates.
    table["active"] = ~table["is_active"].astype(object).isin([False, 0, "false", "f", "False"])
    return table.sort_values(["_p", "metric_id"], kind="stable").reset_index(drop=True)


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


def _definition_keys(table: pd.DataFrame) -> pd.DataFrame:
    return table[list(DEFINITION_KEY)].astype(object).where(table[list(DEFINITION_KEY)].notna(), "<null>")


def _u2(table: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Duplicate definition keys within a project: the lowest metric_id is kept, later ids are excluded."""
    keys = _definition_keys(table).assign(_p=table["_p"])
    first = ~keys.duplicated(keep="first")
    in_dup_key = keys.duplicated(keep=False)
    kept_id = table.groupby([keys[c] for c in keys.columns], sort=False)["metric_id"].transform("min")
    reasons = pd.Series(None, index=table.index, dtype=object)
    excluded = in_dup_key & ~first
    reasons[excluded] = "same (section, platform, name) as kept metric_id " + kept_id[excluded].astype(str)
    key_units = pd.DataFrame({"p": table["_p"][first].to_numpy(), "passed": ~in_dup_key[first].to_numpy()})
    return reasons, key_units


@dataclass(frozen=True)
class K4Inputs:
    """API weights (metric_id, weight) with each row's project position, None where nothing landed;
    the pool of metric definitions other projects are compared with, and per project whether it has one."""

    api_weights: pd.DataFrame | None
    api_p: np.ndarray | None
    api_provided: np.ndarray  # bool per project
    pool: pd.DataFrame | None  # metric rows (project_id, DEFINITION_KEY, metric_type)
    pool_provided: np.ndarray  # bool per project


def _k4_api(table: pd.DataFrame, k4: K4Inputs, n: int) -> tuple[pd.DataFrame, list[str]]:
    units = pd.DataFrame({"p": np.array([], "int64"), "passed": np.array([], bool)})
    if k4.api_weights is not None and len(k4.api_weights):
        api = pd.DataFrame(
            {
                "_p": k4.api_p,
                "metric_id": pd.to_numeric(k4.api_weights["metric_id"], errors="coerce").to_numpy(),
                "api_weight": pd.to_numeric(k4.api_weights["weight"], errors="coerce").to_numpy(),
            }
        )
        api = api.dropna(subset=["metric_id"]).drop_duplicates(["_p", "metric_id"])
        both = table[["_p", "metric_id", "weight"]].merge(api, on=["_p", "metric_id"], how="inner")
        ok = np.isclose(both["weight"], both["api_weight"], rtol=1e-9, atol=1e-9) & both["api_weight"].notna()
        units = pd.DataFrame({"p": both["_p"].to_numpy(), "passed": ok.to_numpy()})
    return units, _notes(units, n, k4.api_provided, "API weights differ from metrics.weight", "API weights unavailable")


def _k4_types(table: pd.DataFrame, project_ids: np.ndarray, k4: K4Inputs, n: int) -> tuple[pd.DataFrame, list[str]]:
    """Each defined metric whose (section, platform, name) other projects define too passes when every
    non-null metric_type they give equals its own."""
    key = list(DEFINITION_KEY)
    units = pd.DataFrame({"p": np.array([], "int64"), "passed": np.array([], bool)})
    if k4.pool is not None and len(k4.pool):
        pool = k4.pool.dropna(subset=key)
        owner = pool["project_id"] if "project_id" in pool else pd.Series(np.nan, index=pool.index)
        mine = table.dropna(subset=key)
        rows = pd.concat(
            [
                pd.DataFrame(
                    {
                        "_p": -1,
                        **{c: pool[c].to_numpy(dtype=object) for c in key},
                        # a pool row without project id belongs to no assessed project
                        "_proj": pd.to_numeric(owner, errors="coerce").fillna(np.inf).to_numpy(),
                        "_type": pool["metric_type"].to_numpy(dtype=object),
                    }
                ),
                pd.DataFrame(
                    {
                        "_p": mine["_p"].to_numpy(),
                        **{c: mine[c].to_numpy(dtype=object) for c in key},
                        # a project without id compares with every pool row
                        "_proj": np.nan_to_num(project_ids[mine["_p"].to_numpy()], nan=-np.inf),
                        "_type": mine["metric_type"].to_numpy(dtype=object),
                    }
                ),
            ],
            ignore_index=True,
        )
        in_pool = (rows["_p"] < 0).to_numpy()
        typed = in_pool & rows["_type"].notna().to_numpy()
        coded = {c: codes_of(rows[c].to_numpy()) for c in [*key, "_proj", "_type"]}  # each column once

        def pool_rows(by: list[str], flag: np.ndarray) -> np.ndarray:
            """For each row: pool rows (with `flag`) sharing its values of `by` (a null is a value)."""
            group = group_codes([coded[c] for c in by])
            return np.bincount(group, weights=flag, minlength=1).astype("int64")[group][~in_pool]

        others = pool_rows(key, in_pool) - pool_rows([*key, "_proj"], in_pool)
        typed_others = pool_rows(key, typed) - pool_rows([*key, "_proj"], typed)
        same_type = pool_rows([*key, "_type"], typed) - pool_rows([*key, "_proj", "_type"], typed)
        shared = others > 0
        units = pd.DataFrame({"p": mine["_p"].to_numpy()[shared], "passed": (typed_others == same_type)[shared]})
    what = "metrics shared with other projects disagree on metric_type"
    return units, _notes(units, n, k4.pool_provided, what, "other projects' metrics unavailable")


def _notes(units: pd.DataFrame, n: int, provided: np.ndarray, what: str, unavailable: str) -> list[str]:
    """Per project: '<failed> of <units> <what>' where the input was provided, else `unavailable`."""
    p = units["p"].to_numpy(dtype="int64")
    count = np.bincount(p, minlength=n)
    failed = np.bincount(p, weights=~units["passed"].to_numpy(dtype=bool), minlength=n).astype("int64")
    return [f"{failed[i]} of {count[i]} {what}" if provided[i] else unavailable for i in range(n)]


def _k4(table: pd.DataFrame, project_ids: np.ndarray, k4: K4Inputs, n: int) -> RuleRows:
    api_units, api_notes = _k4_api(table, k4, n)
    type_units, type_notes = _k4_types(table, project_ids, k4, n)
    units = pd.concat([api_units, type_units], ignore_index=True)
    p = units["p"].to_numpy(dtype="int64")
    total = np.bincount(p, minlength=n)
    passed = np.bincount(p, weights=units["passed"].to_numpy(dtype=bool), minlength=n).astype("int64")
    message = ["; ".join(parts) for parts in zip(api_notes, type_notes)]
    return counted(
        "K4",
        np.arange(n),
        np.full(n, np.nan),
        total,
        passed,
        n,
        message=message,
        empty=[f"no K4 units: {m}" for m in message],
    )


def assess_metrics(metrics: pd.DataFrame, p: np.ndarray, project_ids: np.ndarray, k4: K4Inputs) -> MetricVerdicts:
    """`project_ids`: float per project (NaN when the project has no id, then no row is filtered out)."""
    n = project_ids.size
    table = _prepare(metrics, p, project_ids)
    table["v4_reason"] = _v4_reasons(table)
    table["u2_reason"], u2_keys = _u2(table)
    empty = "no metric definitions for the project"
    p_table = table["_p"].to_numpy()
    v4_what = "invalid (section, metric_type, weight >= 0, effort_cost > 0)"
    v4 = tally_units("V4", p_table, None, table["v4_reason"].isna().to_numpy(), n, v4_what, empty)
    u2 = tally_units("U2", u2_keys["p"], None, u2_keys["passed"], n, "shared by more than one metric_id", empty)
    k4_rows = _k4(table, project_ids, k4, n)
    return MetricVerdicts(table.drop(columns="_p"), p_table, [v4, u2, k4_rows], n)
