"""Demo generator (SPEC §12): determinism, structure, calibration and planted faults."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dc_pipeline.demo.dataset import SIZES, dataset_sha256, demo_dataset
from dc_pipeline.demo.generator import (
    FIRST_METRIC_ID,
    FIRST_VALUE_ID,
    MINIMIZE_METRICS,
    PLATFORMS,
    generate,
    weighted_scores,
)
from dc_pipeline.domain.source_tables import SECTIONS, SOURCE_COLUMNS

try:  # the real §4 scorer; a local weighted mean stands in while it is being written
    from dc_pipeline.domain.scoring import compute_dc_scores
except ImportError:  # pragma: no cover
    compute_dc_scores = None

SMALL = dict(projects=3, brands_per_project=4, metrics_per_platform=2, periods=12)
KEY = ["project_id", "brand_id", "metric_id", "period"]


@pytest.fixture(scope="module")
def default_data():
    return generate()


def _frames(data):
    t = data.tables
    return t["normalisedvalue"], t["metrics"], t["business_outcomes"], t["projects"]


def _scores(values: pd.DataFrame, metrics: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(brands: project, brand, period, dc_score; sections: ..., section_name, section_score)."""
    values = values[KEY + ["normalized_value"]]
    if compute_dc_scores is not None:
        scores = compute_dc_scores(values, metrics)
        return scores.brands, scores.sections
    # Fallback (§4 with one platform level collapsed is NOT exact): section = weighted mean.
    rows = values.merge(metrics, on=["metric_id", "project_id"])
    rows["s"] = np.where(rows.metric_type == "minimize", 100 - rows.normalized_value, rows.normalized_value)
    rows["ws"] = rows.s * rows.weight
    sec = (
        rows.groupby(["project_id", "brand_id", "period", "section_name"])
        .agg(ws=("ws", "sum"), w=("weight", "sum"))
        .reset_index()
    )
    sec["section_score"] = sec.ws / sec.w
    dc = sec.groupby(["project_id", "brand_id", "period"]).agg(ws=("ws", "sum"), w=("w", "sum")).reset_index()
    dc["dc_score"] = dc.ws / dc.w
    return dc, sec


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_sha_and_different_seed_differs():
    a, b, c = generate(seed=7, **SMALL), generate(seed=7, **SMALL), generate(seed=8, **SMALL)
    assert dataset_sha256(a.tables) == dataset_sha256(b.tables)
    assert a.planted_faults == b.planted_faults
    assert dataset_sha256(a.tables) != dataset_sha256(c.tables)


def test_sha_is_independent_of_row_order():
    data = generate(seed=3, **SMALL)
    shuffled = {n: df.sample(frac=1.0, random_state=1) for n, df in data.tables.items()}
    assert dataset_sha256(shuffled) == dataset_sha256(data.tables)
    changed = dict(data.tables)
    nv = changed["normalisedvalue"].copy()
    nv.loc[0, "normalized_value"] += 0.01
    changed["normalisedvalue"] = nv
    assert dataset_sha256(changed) != dataset_sha256(data.tables)


def test_timestamps_derive_from_period_not_clock(default_data):
    nv = default_data.tables["normalisedvalue"]
    expected = (nv.period + pd.DateOffset(months=1) + pd.Timedelta(days=2, hours=6)).dt.tz_localize("UTC")
    assert (nv.created_at == expected).all() and (nv.updated_at == nv.created_at).all()


# --- structure ---------------------------------------------------------------------------------


def test_columns_match_source_columns(default_data):
    for name, cols in SOURCE_COLUMNS.items():
        assert list(default_data.tables[name].columns) == [*cols, "created_at", "updated_at"], name


def test_projects_brands_and_history_profiles(default_data):
    nv, metrics, outcomes, projects = _frames(default_data)
    pb = default_data.tables["project_brands"]
    assert projects.project_id.tolist() == [101, 102, 103, 104]
    assert projects.series_group.isna().all() and (projects.status == "completed").all()
    assert (projects.end_date == pd.Timestamp("2024-12-01")).all()
    months = nv.groupby("project_id").period.nunique().to_dict()
    assert months == {101: 36, 102: 12, 103: 6, 104: 36}
    first = nv.groupby("project_id").period.min()
    assert (first.values == projects.set_index("project_id").start_date.loc[first.index].values).all()
    pool = 5 + 3
    for i, pid in enumerate(projects.project_id):
        members = pb[pb.project_id == pid]
        assert members.brand_id.tolist() == [11 + (2 * i + j) % pool for j in range(5)]
        assert members.role.tolist() == ["primary"] + ["competitor"] * 4
    brands = default_data.tables["brands"]
    assert brands.brand_name.tolist() == [f"Brand {c}" for c in "ABCDEFGH"]
    assert (brands.category_id == 2).all()


def test_metric_definitions(default_data):
    metrics = default_data.tables["metrics"]
    n_platforms = sum(len(p) for p in PLATFORMS.values())
    assert len(metrics) == 4 * n_platforms * 3
    assert metrics.metric_id.tolist() == list(range(FIRST_METRIC_ID, FIRST_METRIC_ID + len(metrics)))
    assert not metrics.duplicated(["project_id", "section_name", "platform_name", "metric_name"]).any()
    assert set(metrics.section_name) == set(SECTIONS)
    minimize = metrics.metric_name.isin(MINIMIZE_METRICS)
    assert (metrics.metric_type == np.where(minimize, "minimize", "maximize")).all()
    assert minimize.any()
    assert set(metrics.weight) <= {0.5, 1.0, 1.5, 2.0} and metrics.weight.nunique() > 1
    assert metrics.effort_cost.between(0.5, 2.0).all()


def test_value_ids_unique_and_start_at_1001(default_data):
    ids = default_data.tables["normalisedvalue"].id
    assert ids.is_unique and ids.min() == FIRST_VALUE_ID


def test_row_count_formula_without_and_with_faults():
    knobs = dict(projects=2, brands_per_project=20, metrics_per_platform=4, periods=36)
    clean = generate(faulty_project=None, **knobs)
    cells = [20 * 9 * 4 * k for k in (36, 12)]  # profiles full, 12
    expected = sum(c - round(0.01 * c) for c in cells)
    assert len(clean.tables["normalisedvalue"]) == expected
    assert clean.planted_faults["faults"] == {}
    assert len(clean.tables["business_outcomes"]) == 20 * (36 + 12)

    faulty = generate(**knobs)
    f = faulty.planted_faults["faults"]
    added = f["duplicate_exact"]["count"] + f["duplicate_conflict"]["count"] + f["unknown_metric_rows"]["count"]
    assert len(faulty.tables["normalisedvalue"]) == expected - f["brand_missing_last_periods"]["rows_removed"] + added


def test_missing_share_is_exact(default_data):
    nv = default_data.tables["normalisedvalue"]
    rows = nv[nv.project_id == 101]
    cells = 5 * 27 * 36
    assert len(rows) == cells - round(0.01 * cells)


def test_quarterly_grain_uses_quarter_starts_and_triples_revenue():
    month = generate(projects=1, brands_per_project=3, metrics_per_platform=1, periods=8, faulty_project=None)
    quarter = generate(
        projects=1, brands_per_project=3, metrics_per_platform=1, periods=8, grain="quarter", faulty_project=None
    )
    periods = quarter.tables["normalisedvalue"].period.drop_duplicates()
    assert set(periods.dt.month) <= {1, 4, 7, 10} and (periods.dt.day == 1).all()
    ratio = quarter.tables["business_outcomes"].revenue.mean() / month.tables["business_outcomes"].revenue.mean()
    assert 2.0 < ratio < 4.5


def test_brand_equity_null_only_in_second_project(default_data):
    outcomes = default_data.tables["business_outcomes"]
    null = outcomes.brand_equity_index.isna().groupby(outcomes.project_id).mean()
    assert null.loc[102] == 1.0
    assert (null.drop(102) == 0.0).all()


# --- calibration on the clean projects (all but the faulty one) ---------------------------------


@pytest.fixture(scope="module")
def clean_scores(default_data):
    nv, metrics, outcomes, _ = _frames(default_data)
    faulty = default_data.planted_faults["project_id"]
    brands, sections = _scores(nv[nv.project_id != faulty], metrics[metrics.project_id != faulty])
    merged = brands.merge(outcomes, on=["project_id", "brand_id", "period"])
    return brands, sections, merged


def test_dc_mostly_within_68_92(clean_scores):
    brands, _, _ = clean_scores
    dc = brands.dc_score.dropna()
    assert len(dc) == 5 * (36 + 12 + 6)
    assert dc.between(68, 92).mean() >= 0.95


def test_digital_spends_below_brand_mean(clean_scores):
    _, sections, _ = clean_scores
    keys = ["project_id", "brand_id", "period"]
    brand_mean = sections.groupby(keys).section_score.transform("mean")
    gap = (sections.section_score - brand_mean)[sections.section_name == "Digital Spends"]
    assert -5 <= gap.mean() <= -2


def _mean_within_period_corr(merged: pd.DataFrame, column: str) -> float:
    """Pearson r across brands inside each (project, period), averaged over the project-periods."""
    per_period = merged.groupby(["project_id", "period"])[["dc_score", column]].apply(
        lambda g: g.dc_score.corr(g[column])
    )
    return float(per_period.mean())


def test_dc_outcome_correlations(clean_scores):
    _, _, merged = clean_scores
    assert _mean_within_period_corr(merged, "revenue") >= 0.7
    assert _mean_within_period_corr(merged, "customer_acquisition_cost") <= -0.7


def test_market_share_range(default_data):
    outcomes = default_data.tables["business_outcomes"]
    clean = outcomes[outcomes.project_id != default_data.planted_faults["project_id"]]
    assert clean.market_share.between(5, 30).all()
    assert np.allclose(clean.groupby(["project_id", "period"]).market_share.sum(), 70, atol=0.01)


@pytest.mark.skipif(compute_dc_scores is None, reason="dc_pipeline.domain.scoring not available")
def test_generator_dc_equals_section4_scoring(default_data):
    """The DC behind the outcome formulas is the §4 weighted DC of the generated rows."""
    nv, metrics, _, _ = _frames(default_data)
    rows = nv[nv.project_id == 101]
    m = metrics[metrics.project_id == 101].reset_index(drop=True)
    brands = compute_dc_scores(rows[KEY + ["normalized_value"]], m).brands
    plat = list(dict.fromkeys(zip(m.section_name, m.platform_name)))
    platform_of = np.array([plat.index(p) for p in zip(m.section_name, m.platform_name)])
    section_of_platform = np.array([SECTIONS.index(s) for s, _ in plat])
    wide = rows.pivot_table(index=["brand_id", "period"], columns="metric_id", values="normalized_value")
    wide = wide.reindex(columns=m.metric_id)
    v = wide.to_numpy()
    directed = np.where((m.metric_type == "minimize").to_numpy(), 100 - v, v)
    dc, _ = weighted_scores(
        np.nan_to_num(directed), ~np.isnan(v), m.weight.to_numpy(), platform_of, section_of_platform
    )
    mine = pd.Series(dc, index=wide.index, name="mine").reset_index()
    both = brands.merge(mine, on=["brand_id", "period"])
    assert len(both) == len(wide)
    assert np.allclose(both.dc_score, both.mine, atol=1e-9)


# --- planted faults ----------------------------------------------------------------------------


def _project(data, pid):
    nv, metrics, outcomes, projects = _frames(data)
    return (
        nv[nv.project_id == pid],
        metrics[metrics.project_id == pid],
        outcomes[outcomes.project_id == pid],
        projects.set_index("project_id").loc[pid],
    )


def _recount(data, pid) -> dict[str, object]:
    """Count each fault kind directly from a project's rows."""
    nv, metrics, outcomes, project = _project(data, pid)
    out_of_range = ~nv.normalized_value.between(0, 100)
    per_key = nv.groupby(KEY).normalized_value.agg(["size", "nunique"])
    dup = per_key[per_key["size"] > 1]
    known = nv.metric_id.isin(metrics.metric_id)
    labelled = nv.merge(metrics[["metric_id", "section_name"]], on="metric_id")
    mismatch = labelled[labelled.section.notna() & (labelled.section != labelled.section_name)]
    # K2 on rows a validator keeps: in range, known metric, lowest id per key.
    kept = nv[~out_of_range & known].sort_values("id").drop_duplicates(KEY)
    kept = kept.sort_values(["brand_id", "metric_id", "period"])
    step = 1 if project.period_grain == "month" else 3
    prev_period = kept.period - pd.DateOffset(months=step)
    same_series = kept[["brand_id", "metric_id"]].eq(kept[["brand_id", "metric_id"]].shift()).all(axis=1)
    consecutive = same_series & (kept.period.shift() == prev_period)
    jumps = (kept.normalized_value.diff().abs() > 40) & consecutive
    members = data.tables["project_brands"].query("project_id == @pid").brand_id
    periods = pd.date_range(project.start_date, project.end_date, freq=f"{step}MS")
    grid = pd.MultiIndex.from_product([members, periods], names=["brand_id", "period"])
    present = pd.MultiIndex.from_frame(nv[known][["brand_id", "period"]].drop_duplicates())
    empty = grid.difference(present)
    share_sum = outcomes.groupby("period").market_share.sum()
    return dict(
        out_of_range=int(out_of_range.sum()),
        duplicate_exact=int((dup["nunique"] == 1).sum()),
        duplicate_conflict=int((dup["nunique"] > 1).sum()),
        unknown_metric=int((~known).sum()),
        mismatch_metrics=sorted(mismatch.metric_id.unique().tolist()),
        mismatch_rows=len(mismatch),
        jumps=int(jumps.sum()),
        empty_brand_periods=sorted((int(b), p.strftime("%Y-%m-%d")) for b, p in empty),
        negative_revenue=int((outcomes.revenue < 0).sum()),
        share_over_100=sorted(p.strftime("%Y-%m-%d") for p in share_sum[share_sum > 100.5].index),
        quarantined=int(
            out_of_range.sum()
            + (dup["size"] - 1)[dup["nunique"] == 1].sum()
            + dup["size"][dup["nunique"] > 1].sum()
            + (~known).sum()
        ),
        rows=len(nv),
    )


def test_planted_fault_counts_match_rows(default_data):
    planted = default_data.planted_faults
    f = planted["faults"]
    assert planted["project_id"] == 104
    got = _recount(default_data, 104)
    assert got["out_of_range"] == f["out_of_range_values"]["count"]
    assert 0.004 <= got["out_of_range"] / got["rows"] <= 0.006
    assert got["duplicate_exact"] == f["duplicate_exact"]["count"] == 10
    assert got["duplicate_conflict"] == f["duplicate_conflict"]["count"] == 5
    assert got["unknown_metric"] == f["unknown_metric_rows"]["count"] == 8
    assert got["mismatch_metrics"] == [f["section_mismatch"]["metric_id"]]
    metric_rows = default_data.tables["normalisedvalue"].query("metric_id == @f['section_mismatch']['metric_id']")
    assert got["mismatch_rows"] == f["section_mismatch"]["rows"] == len(metric_rows)
    assert got["jumps"] == f["value_jumps"]["count"] == 3
    lost = f["brand_missing_last_periods"]
    assert got["empty_brand_periods"] == [(lost["brand_id"], p) for p in lost["periods"]]
    assert lost["periods"] == ["2024-11-01", "2024-12-01"]
    assert got["negative_revenue"] == f["negative_revenue"]["count"] == 2
    assert got["share_over_100"] == f["market_share_over_100"]["periods"]
    assert got["quarantined"] == planted["expected_quarantined_rows"]
    assert got["rows"] == planted["rows"]
    assert got["quarantined"] / got["rows"] < 0.10


@pytest.mark.parametrize("pid", [101, 102, 103])
def test_clean_projects_have_no_faults(default_data, pid):
    got = _recount(default_data, pid)
    assert got["out_of_range"] == got["duplicate_exact"] == got["duplicate_conflict"] == 0
    assert got["unknown_metric"] == got["mismatch_rows"] == got["jumps"] == 0
    assert got["empty_brand_periods"] == [] and got["negative_revenue"] == 0
    assert got["share_over_100"] == []


def test_faults_planted_on_quarterly_short_project():
    data = generate(grain="quarter", faulty_project=2, **SMALL)  # profile "short": 6 quarters
    f = data.planted_faults["faults"]
    got = _recount(data, data.planted_faults["project_id"])
    assert got["jumps"] == f["value_jumps"]["count"] == 3
    assert got["out_of_range"] == f["out_of_range_values"]["count"] >= 1
    lost = f["brand_missing_last_periods"]
    assert got["empty_brand_periods"] == [(lost["brand_id"], p) for p in lost["periods"]]
    assert got["share_over_100"] == f["market_share_over_100"]["periods"]
    assert got["quarantined"] == data.planted_faults["expected_quarantined_rows"]


def test_no_faulty_project_means_no_faults():
    data = generate(faulty_project=None, **SMALL)
    assert data.planted_faults == {"project_id": None, "faults": {}}
    for pid in data.tables["projects"].project_id:
        got = _recount(data, pid)
        assert got["quarantined"] == 0 and got["jumps"] == 0 and got["negative_revenue"] == 0
        assert got["mismatch_rows"] == 0 and got["empty_brand_periods"] == []


def test_faulty_project_index_and_clean_data_independent_of_it():
    first = generate(faulty_project=0, **SMALL)
    none = generate(faulty_project=None, **SMALL)
    assert first.planted_faults["project_id"] == 101
    for table in ("normalisedvalue", "business_outcomes"):
        a, b = first.tables[table], none.tables[table]
        a, b = (
            a[a.project_id != 101].drop(columns="id", errors="ignore"),
            b[b.project_id != 101].drop(columns="id", errors="ignore"),
        )
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    with pytest.raises(ValueError):
        generate(faulty_project=5, **SMALL)


def test_sizes_large_reaches_five_million_rows():
    k = SIZES["large"]
    profiles = [k["periods"], 12, 6, k["periods"]]
    history = sum(profiles[i % 4] for i in range(k["projects"]))
    cells_per_period = k["brands_per_project"] * 9 * k["metrics_per_platform"]
    assert cells_per_period * history * 0.99 >= 5_000_000


def test_demo_dataset_small_is_generator_plus_techcorp():
    data = demo_dataset("small")
    nv = data.tables["normalisedvalue"]
    assert set(data.tables["projects"].project_id) == {1, 2, 3, 101, 102, 103, 104}
    assert nv.id.is_unique and data.tables["metrics"].metric_id.is_unique
    assert data.tables["brands"].brand_name.is_unique
    assert data.planted_faults["project_id"] == 104
    with pytest.raises(ValueError):
        demo_dataset("huge")
