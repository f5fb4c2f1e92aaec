"""The DC score (SPEC §4): directed metric scores rolled up to platforms, sections and the DC.

Pure and vectorised: every step works on whole columns with `np.bincount` over integer group
codes, so millions of value rows score in seconds and no Python loop runs per brand-period.

Rules that the SPEC leaves to the implementation (documented here, tested in test_scoring):
- Values whose `(project_id, metric_id)` is not in `metrics` are ignored (validation quarantines
  them upstream). Brand-periods whose known metrics are all inactive are kept with coverage 0.
- A brand-period whose DC is null (coverage below `min_weight_coverage`, or no defined section)
  keeps its metric, platform and section rows, but its e_m, c_m, g_m and the section
  contribution / effective_weight are NaN, and it has no tier and no rank.
- Under `unweighted_mean` every metric counts as weight 1, so weight coverage is the fraction of
  active metrics with a value (|A| / |active|), against the same `min_weight_coverage`.
- Ranks are taken on the DC rounded to 1e-9 so that equal inputs summed in a different order
  still tie.
- `sections` holds only sections with a defined score, `platforms` only defined platforms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline.domain.source_tables import SECTIONS

KEYS: tuple[str, ...] = ("project_id", "brand_id", "period")
# The value columns scoring reads (the dc_scores asset loads only these).
SCORED_VALUE_COLUMNS: tuple[str, ...] = ("project_id", "brand_id", "metric_id", "period", "normalized_value")
BRAND_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "dc_score",
    "tier",
    "rank",
    "n_brands",
    "weight_coverage",
    "sections_missing",
    "null_reason",
)
SECTION_COLUMNS: tuple[str, ...] = (*KEYS, "section_name", "section_score", "contribution", "effective_weight")
PLATFORM_COLUMNS: tuple[str, ...] = (*KEYS, "section_name", "platform_name", "platform_score")
METRIC_COLUMNS: tuple[str, ...] = (
    *KEYS,
    "metric_id",
    "section_name",
    "platform_name",
    "metric_name",
    "directed_score",
    "effective_weight",
    "contribution",
    "shortfall",
)
TIER_HIGH = 80.0
TIER_MEDIUM = 60.0
RANK_DECIMALS = 9


@dataclass(frozen=True)
class DcScores:
    """The four frames of the `dc_scores` asset (columns in the *_COLUMNS tuples above)."""

    brands: pd.DataFrame
    sections: pd.DataFrame
    platforms: pd.DataFrame
    metrics: pd.DataFrame


@dataclass(frozen=True)
class _Groups:
    """Integer group codes: rows -> (brand-period, platform) -> (brand-period, section) -> brand-period."""

    bp_of_row: np.ndarray
    kp_of_row: np.ndarray
    row_of_kp: np.ndarray  # first row of each platform group
    ks_of_kp: np.ndarray
    kp_of_ks: np.ndarray  # first platform group of each section group
    n_bp: int


@dataclass(frozen=True)
class _Rollup:
    platform_den: np.ndarray
    platform_score: np.ndarray
    platform_defined: np.ndarray
    section_den: np.ndarray
    section_score: np.ndarray
    section_defined: np.ndarray
    dc_den: np.ndarray
    dc: np.ndarray
    effective_weight: np.ndarray  # per row


def compute_dc_scores(values: pd.DataFrame, metrics: pd.DataFrame, config: ScoringConfig = ScoringConfig()) -> DcScores:
    active = active_metric_table(metrics, config)
    rows, keys = _metric_rows(values, metrics, active, config)
    groups = _group_codes(rows, len(keys))
    w_metric, w_platform, w_section = _level_weights(rows, groups, config)
    rollup = _roll_up(rows["directed_score"].to_numpy(), groups, w_metric, w_platform, w_section)
    coverage = _weight_coverage(rows, keys, active, groups, config)
    dc, reason = _null_dc(rollup.dc, coverage, keys["project_id"].to_numpy(), config)
    brands = _brand_frame(keys, dc, coverage, reason, rows, groups, rollup, active)
    return DcScores(
        brands=brands,
        sections=_section_frame(keys, rows, groups, rollup, dc),
        platforms=_platform_frame(keys, rows, groups, rollup),
        metrics=_metric_frame(rows, groups, rollup, dc),
    )


def active_metric_table(metrics: pd.DataFrame, config: ScoringConfig = ScoringConfig()) -> pd.DataFrame:
    """Active metrics with nominal platform weight W_p and section weight W_sigma (step 1)."""
    is_active = metrics["is_active"].astype("boolean").fillna(False).astype(bool)
    active = metrics.loc[
        is_active,
        [
            "project_id",
            "metric_id",
            "section_name",
            "platform_name",
            "metric_name",
            "metric_type",
            "weight",
        ],
    ].sort_values(["project_id", "section_name", "platform_name", "metric_id"], ignore_index=True)
    active["metric_order"] = np.arange(len(active))
    active["section_code"] = pd.factorize(active["section_name"], sort=True)[0]
    active["platform_code"] = pd.factorize(active["platform_name"], sort=True)[0]
    weight = active["weight"].astype(float)
    bad = active.loc[~np.isfinite(weight) | (weight < 0), "metric_id"]
    if len(bad):
        raise ValueError(f"metric weights must be finite and >= 0; bad metric_id(s): {sorted(bad.tolist())[:10]}")
    active["weight"] = weight
    active["platform_weight"] = active.groupby(["project_id", "section_name", "platform_name"], sort=False)[
        "weight"
    ].transform("sum")
    if config.section_weighting == "equal":
        active["section_weight"] = 1.0
    else:
        active["section_weight"] = active.groupby(["project_id", "section_name"], sort=False)["weight"].transform("sum")
    return active


def directed_scores(value: np.ndarray, metric_type: np.ndarray, normalized_is_directed: bool) -> np.ndarray:
    """s = v for maximize, 100 - v for minimize; no flip when values are already directed."""
    value = np.asarray(value, dtype=float)
    if normalized_is_directed:
        return value
    return np.where(np.asarray(metric_type) == "minimize", 100.0 - value, value)


def _metric_rows(
    values: pd.DataFrame, metrics: pd.DataFrame, active: pd.DataFrame, config: ScoringConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Value rows joined to active metric definitions, plus the brand-period key table.

    Brand-periods come from every value with a known metric, so one whose metrics are all
    inactive still appears (with coverage 0) instead of vanishing silently.
    """
    known = values.loc[:, list(SCORED_VALUE_COLUMNS)].merge(
        metrics[["project_id", "metric_id"]].drop_duplicates(), on=["project_id", "metric_id"], how="inner"
    )
    known["bp"] = known.groupby(list(KEYS), sort=True).ngroup()
    keys = known.drop_duplicates("bp").sort_values("bp").loc[:, list(KEYS)].reset_index(drop=True)
    rows = known.merge(
        active[["project_id", "metric_id", "metric_order"]],
        on=["project_id", "metric_id"],
        how="inner",
        validate="many_to_one",
    )
    # output order: brand-period, then section / platform / metric as in `active` (integer sort keys)
    order = np.lexsort((rows["metric_order"].to_numpy(), rows["bp"].to_numpy()))
    rows = rows.take(order).reset_index(drop=True)
    position = rows["metric_order"].to_numpy()
    for column in (
        "section_name",
        "platform_name",
        "metric_name",
        "metric_type",
        "weight",
        "platform_weight",
        "section_weight",
        "section_code",
        "platform_code",
    ):
        rows[column] = active[column].to_numpy()[position]  # one numpy take per column: cheap
    rows["directed_score"] = directed_scores(
        rows["normalized_value"].to_numpy(), rows["metric_type"].to_numpy(), config.normalized_is_directed
    )
    return rows, keys


def _dense(*codes: np.ndarray) -> np.ndarray:
    """Dense 0..k-1 codes for the combination of several integer code arrays."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for code in codes:
        combined = combined * (int(code.max(initial=0)) + 1) + code
    return pd.factorize(combined, sort=True)[0]


def _first_index(codes: np.ndarray, n: int) -> np.ndarray:
    first = np.full(n, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _group_codes(rows: pd.DataFrame, n_bp: int) -> _Groups:
    bp = rows["bp"].to_numpy(dtype=np.int64)
    section = rows["section_code"].to_numpy(dtype=np.int64)
    platform = rows["platform_code"].to_numpy(dtype=np.int64)
    kp = _dense(bp, section, platform)
    row_of_kp = _first_index(kp, int(kp.max(initial=-1)) + 1)
    ks = _dense(bp[row_of_kp], section[row_of_kp])
    kp_of_ks = _first_index(ks, int(ks.max(initial=-1)) + 1)
    return _Groups(bp, kp, row_of_kp, ks, kp_of_ks, n_bp)


def _level_weights(
    rows: pd.DataFrame, groups: _Groups, config: ScoringConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights per metric row, per platform group and per section group.

    The unweighted mean is the same roll-up with metric weight 1 and platform / section weights
    equal to the number of available metrics, which turns every level into a plain mean.
    """
    if config.score_method == "unweighted_mean":
        w_metric = np.ones(len(rows))
        w_platform = np.bincount(groups.kp_of_row, minlength=len(groups.row_of_kp)).astype(float)
        w_section = np.bincount(groups.ks_of_kp, weights=w_platform, minlength=len(groups.kp_of_ks))
        return w_metric, w_platform, w_section
    w_metric = rows["weight"].to_numpy(dtype=float)
    w_platform = rows["platform_weight"].to_numpy(dtype=float)[groups.row_of_kp]
    w_section = rows["section_weight"].to_numpy(dtype=float)[groups.row_of_kp[groups.kp_of_ks]]
    return w_metric, w_platform, w_section


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(len(den), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _roll_up(
    s: np.ndarray, groups: _Groups, w_metric: np.ndarray, w_platform: np.ndarray, w_section: np.ndarray
) -> _Rollup:
    """Steps 2-5: platform, section and DC scores over defined siblings, and e_m."""
    n_kp, n_ks = len(groups.row_of_kp), len(groups.kp_of_ks)
    p_den = np.bincount(groups.kp_of_row, weights=w_metric, minlength=n_kp)
    p_score = _ratio(np.bincount(groups.kp_of_row, weights=w_metric * s, minlength=n_kp), p_den)
    p_def = p_den > 0
    p_w = np.where(p_def, w_platform, 0.0)
    s_den = np.bincount(groups.ks_of_kp, weights=p_w, minlength=n_ks)
    s_score = _ratio(np.bincount(groups.ks_of_kp, weights=p_w * np.nan_to_num(p_score), minlength=n_ks), s_den)
    s_def = s_den > 0
    bp_of_ks = groups.bp_of_row[groups.row_of_kp[groups.kp_of_ks]]
    s_w = np.where(s_def, w_section, 0.0)
    dc_den = np.bincount(bp_of_ks, weights=s_w, minlength=groups.n_bp)
    dc = _ratio(np.bincount(bp_of_ks, weights=s_w * np.nan_to_num(s_score), minlength=groups.n_bp), dc_den)
    kp, ks = groups.kp_of_row, groups.ks_of_kp[groups.kp_of_row]
    with np.errstate(divide="ignore", invalid="ignore"):
        e = (s_w[ks] / dc_den[groups.bp_of_row]) * (p_w[kp] / s_den[ks]) * (w_metric / p_den[kp])
    e = np.where(p_def[kp], e, 0.0)
    return _Rollup(p_den, p_score, p_def, s_den, s_score, s_def, dc_den, dc, e)


def _weight_coverage(
    rows: pd.DataFrame, keys: pd.DataFrame, active: pd.DataFrame, groups: _Groups, config: ScoringConfig
) -> np.ndarray:
    """Step 6: sum of available weights over sum of active weights of the project."""
    unweighted = config.score_method == "unweighted_mean"
    available = np.ones(len(rows)) if unweighted else rows["weight"].to_numpy(dtype=float)
    per_project = active.assign(unit=1.0).groupby("project_id")["unit" if unweighted else "weight"].sum()
    total = keys["project_id"].map(per_project).fillna(0.0).to_numpy(dtype=float)
    return _ratio(np.bincount(groups.bp_of_row, weights=available, minlength=groups.n_bp), total)


def _null_dc(
    dc: np.ndarray, coverage: np.ndarray, project_id: np.ndarray, config: ScoringConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Null the DC (with a reason) below the coverage threshold or when nothing is defined."""
    threshold = config.min_weight_coverage
    low = np.isfinite(coverage) & (coverage < threshold)
    no_weight = ~np.isfinite(coverage)
    undefined = ~np.isfinite(dc) & ~low & ~no_weight
    reason = np.full(len(dc), None, dtype=object)
    if low.any():
        # floored, so 0.699 reads "0.69 < 0.70" rather than the contradictory "0.70 < 0.70"
        shown = pd.Series(np.floor(coverage[low] * 100.0 + 1e-9) / 100.0).map("{:.2f}".format)
        reason[low] = (shown + f" < {threshold:.2f}").radd("weight coverage ").to_numpy(dtype=object)
    if no_weight.any():
        reason[no_weight] = [f"project {p} has no active metric with a positive weight" for p in project_id[no_weight]]
    reason[undefined] = "no metric with a positive weight has a value"
    return np.where(low | no_weight | undefined, np.nan, dc), reason


def tiers(dc: np.ndarray) -> np.ndarray:
    """high >= 80, medium 60..<80, low < 60 on the unrounded DC; None for a null DC."""
    dc = np.asarray(dc, dtype=float)
    tier = np.select([dc >= TIER_HIGH, dc >= TIER_MEDIUM, dc < TIER_MEDIUM], ["high", "medium", "low"], "")
    return np.where(np.isfinite(dc), tier, None).astype(object)


def rank_within(frame: pd.DataFrame, score_column: str, by: list[str]) -> pd.Series:
    """Descending rank with 'min' ties within each group; <NA> for a null score."""
    rounded = frame[score_column].astype(float).round(RANK_DECIMALS)
    rank = rounded.groupby([frame[c] for c in by], sort=False).rank(method="min", ascending=False)
    return rank.astype("Int64")


def _sections_missing(
    keys: pd.DataFrame, rows: pd.DataFrame, groups: _Groups, rollup: _Rollup, active: pd.DataFrame
) -> np.ndarray:
    """Comma-separated project sections without a defined score ('' when none), SPEC order."""
    project_sections = active[["project_id", "section_name"]].drop_duplicates()
    order = list(SECTIONS) + sorted(set(project_sections["section_name"]) - set(SECTIONS))
    code = {name: i for i, name in enumerate(order)}
    row_of_ks = groups.row_of_kp[groups.kp_of_ks][rollup.section_defined]
    defined_code = pd.Series(rows["section_name"].to_numpy()[row_of_ks]).map(code).to_numpy(dtype=np.int64)
    defined = groups.bp_of_row[row_of_ks] * len(order) + defined_code
    expected = keys[["project_id"]].assign(bp=np.arange(len(keys))).merge(project_sections, on="project_id")
    expected_code = expected["section_name"].map(code).to_numpy(dtype=np.int64)
    absent = expected.loc[~np.isin(expected["bp"].to_numpy() * len(order) + expected_code, defined)]
    missing = np.full(len(keys), "", dtype=object)
    for name in order:  # a handful of section names, never a loop over brand-periods
        bp = absent.loc[absent["section_name"] == name, "bp"].to_numpy()
        so_far = missing[bp]
        missing[bp] = np.where(so_far == "", name, so_far + ("," + name))
    return missing


def _brand_frame(
    keys: pd.DataFrame,
    dc: np.ndarray,
    coverage: np.ndarray,
    reason: np.ndarray,
    rows: pd.DataFrame,
    groups: _Groups,
    rollup: _Rollup,
    active: pd.DataFrame,
) -> pd.DataFrame:
    brands = keys.copy()
    brands["dc_score"] = dc
    brands["tier"] = pd.Series(tiers(dc), index=brands.index, dtype=object)  # keeps None, not NaN
    brands["rank"] = rank_within(brands, "dc_score", ["project_id", "period"])
    brands["n_brands"] = brands.groupby(["project_id", "period"])["dc_score"].transform("count").astype("int64")
    brands["weight_coverage"] = coverage
    brands["sections_missing"] = _sections_missing(keys, rows, groups, rollup, active)
    brands["null_reason"] = pd.Series(reason, index=brands.index, dtype=object)
    return brands.loc[:, list(BRAND_COLUMNS)]


def _section_frame(
    keys: pd.DataFrame, rows: pd.DataFrame, groups: _Groups, rollup: _Rollup, dc: np.ndarray
) -> pd.DataFrame:
    n_ks = len(groups.kp_of_ks)
    ks_of_row = groups.ks_of_kp[groups.kp_of_row]
    scored = np.isfinite(dc[groups.bp_of_row])
    s = rows["directed_score"].to_numpy()
    contribution = np.bincount(ks_of_row, weights=rollup.effective_weight * s, minlength=n_ks)
    weight = np.bincount(ks_of_row, weights=rollup.effective_weight, minlength=n_ks)
    row = groups.row_of_kp[groups.kp_of_ks]
    scored_ks = scored[row]
    frame = keys.iloc[groups.bp_of_row[row]].reset_index(drop=True)
    frame["section_name"] = rows["section_name"].to_numpy()[row]
    frame["section_score"] = rollup.section_score
    frame["contribution"] = np.where(scored_ks, contribution, np.nan)
    frame["effective_weight"] = np.where(scored_ks, weight, np.nan)
    return frame.loc[rollup.section_defined, list(SECTION_COLUMNS)].reset_index(drop=True)


def _platform_frame(keys: pd.DataFrame, rows: pd.DataFrame, groups: _Groups, rollup: _Rollup) -> pd.DataFrame:
    row = groups.row_of_kp
    frame = keys.iloc[groups.bp_of_row[row]].reset_index(drop=True)
    frame["section_name"] = rows["section_name"].to_numpy()[row]
    frame["platform_name"] = rows["platform_name"].to_numpy()[row]
    frame["platform_score"] = rollup.platform_score
    return frame.loc[rollup.platform_defined, list(PLATFORM_COLUMNS)].reset_index(drop=True)


def _metric_frame(rows: pd.DataFrame, groups: _Groups, rollup: _Rollup, dc: np.ndarray) -> pd.DataFrame:
    scored = np.isfinite(dc[groups.bp_of_row])
    e = np.where(scored, rollup.effective_weight, np.nan)
    s = rows["directed_score"].to_numpy()
    frame = rows.loc[:, [*KEYS, "metric_id", "section_name", "platform_name", "metric_name", "directed_score"]]
    frame["effective_weight"] = e
    frame["contribution"] = e * s
    frame["shortfall"] = e * (100.0 - s)
    return frame.loc[:, list(METRIC_COLUMNS)]


def check_contribution_identities(scores: DcScores, tol: float = 1e-9) -> pd.DataFrame:
    """Brand-periods with a DC where sum c_m != DC or DC + sum g_m != 100 (beyond tol)."""
    sums = scores.metrics.groupby(list(KEYS), sort=False)[["contribution", "shortfall"]].sum(min_count=1)
    sums.columns = ["contribution_sum", "shortfall_sum"]
    scored = scores.brands.loc[scores.brands["dc_score"].notna(), [*KEYS, "dc_score"]]
    frame = scored.merge(sums.reset_index(), on=list(KEYS), how="left")
    frame["contribution_error"] = (frame["contribution_sum"] - frame["dc_score"]).abs()
    frame["shortfall_error"] = (frame["dc_score"] + frame["shortfall_sum"] - 100.0).abs()
    bad = ~(frame["contribution_error"] <= tol) | ~(frame["shortfall_error"] <= tol)
    return frame.loc[bad].reset_index(drop=True)


def scores_outside_range(scores: DcScores, tol: float = 1e-9) -> pd.DataFrame:
    """Every score outside [0, 100] (beyond float tolerance) in any of the four frames."""
    checks = [
        ("brands", scores.brands, "dc_score", []),
        ("sections", scores.sections, "section_score", ["section_name"]),
        ("platforms", scores.platforms, "platform_score", ["section_name", "platform_name"]),
        ("metrics", scores.metrics, "directed_score", ["metric_id"]),
    ]
    found = []
    for frame_name, frame, column, detail in checks:
        value = frame[column].astype(float)
        out = (value < -tol) | (value > 100.0 + tol)
        if out.any():
            hit = frame.loc[out, [*KEYS, *detail]].copy()
            hit["frame"], hit["column"], hit["value"] = frame_name, column, value[out]
            hit["item"] = frame.loc[out, detail].astype(str).agg("/".join, axis=1) if detail else ""
            found.append(hit.loc[:, ["frame", *KEYS, "column", "item", "value"]])
    columns = ["frame", *KEYS, "column", "item", "value"]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)
