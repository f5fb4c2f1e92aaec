"""The whole demo materialized through Dagster on a real instance and a real Postgres."""

import json
from pathlib import Path

import pandas as pd
import pytest

from dc_pipeline import runner

pytestmark = pytest.mark.slow

TECHCORP_DC = {  # SPEC §4: (project, brand) -> expected DC, tier
    (1, 1): (78.6, "medium"),
    (1, 2): (85.2, "high"),
    (1, 3): (72.1, "medium"),
    (2, 1): (81.2, "high"),
    (2, 2): (87.8, "high"),
    (2, 3): (75.8, "medium"),
}


def test_every_project_partition_materializes(demo_pipeline):
    assert demo_pipeline.summary.failed == {}
    assert sorted(demo_pipeline.summary.succeeded, key=lambda k: int(k[1:])) == [
        "p1",
        "p2",
        "p3",
        "p101",
        "p102",
        "p103",
        "p104",
    ]


def test_techcorp_scores_tiers_and_ranks(demo_pipeline):
    rows = demo_pipeline.query(
        "SELECT project_id, brand_id, dc_score, tier, rank FROM dc_core.dc_scores WHERE project_id IN (1, 2)"
    )
    got = {(p, b): (dc, tier, rank) for p, b, dc, tier, rank in rows}
    assert set(got) == set(TECHCORP_DC)
    for key, (dc, tier) in TECHCORP_DC.items():
        assert got[key][0] == pytest.approx(dc, abs=0.05)
        assert got[key][1] == tier
    for project in (1, 2):
        assert got[(project, 2)][2] == 1  # TechLaptop first
        assert got[(project, 3)][2] == 3  # TechWatch last


def test_report_matches_dc_scores(demo_pipeline):
    (path,) = demo_pipeline.query(
        "SELECT paths->>'json' FROM dc_reports.report_index WHERE project_id = 101 "
        "AND report_id = 'dc_score_performance_analysis' ORDER BY generated_at DESC LIMIT 1"
    )[0]
    envelope = json.loads(Path(path).read_text())
    scores = pd.DataFrame(
        demo_pipeline.query("SELECT brand_id, period, dc_score, rank FROM dc_core.dc_scores WHERE project_id = 101"),
        columns=["brand_id", "period", "dc_score", "rank"],
    )
    latest = scores[scores["period"] == scores["period"].max()]
    block = envelope["analysis"]["latest_period"]["brands"]
    reported = {int(v["brand_id"]): v for v in block.values()}
    assert set(reported) == set(latest["brand_id"])
    for row in latest.itertuples():
        assert reported[row.brand_id]["dc_score"] == pytest.approx(row.dc_score, abs=1e-9)
        assert reported[row.brand_id]["rank"] == row.rank
        assert reported[row.brand_id]["gap_to_leader"] == pytest.approx(
            latest["dc_score"].max() - row.dc_score, abs=1e-9
        )
    assert envelope["data_context"]["periods"]["n"] == scores["period"].nunique()
    assert envelope["system_metadata"]["signature"].startswith("hmac-sha256:")
    html = Path(path).with_suffix(".html").read_text()
    assert "<svg" in html and "http://" not in html and "https://" not in html


def test_techcorp_p2_report_sees_both_quarters_and_empty_project_fails(demo_pipeline):
    health = dict(
        demo_pipeline.query(
            "SELECT DISTINCT ON (project_id) project_id, health FROM dc_reports.report_index "
            "ORDER BY project_id, generated_at DESC"
        )
    )
    assert health[3] == "FAIL"
    (path,) = demo_pipeline.query(
        "SELECT paths->>'json' FROM dc_reports.report_index WHERE project_id = 2 ORDER BY generated_at DESC LIMIT 1"
    )[0]
    envelope = json.loads(Path(path).read_text())
    assert envelope["data_context"]["periods"]["n"] == 2
    assert envelope["data_context"]["projects_analyzed"] == [1, 2]


def test_rerun_of_a_partition_duplicates_nothing(demo_pipeline):
    def counts():
        return demo_pipeline.query(
            "SELECT (SELECT count(*) FROM dc_core.dc_scores WHERE project_id = 101), "
            "(SELECT count(*) FROM dc_core.dc_metric_contributions WHERE project_id = 101), "
            "(SELECT count(*) FROM dc_core.validated_values WHERE project_id = 101), "
            "(SELECT count(*) FROM dc_staging.src_normalised_values WHERE project_id = 101)"
        )[0]

    before = counts()
    summary = runner.run_projects(demo_pipeline.defs, demo_pipeline.instance, ["p101"])
    assert summary.failed == {}
    assert counts() == before
    assert before[0] > 0
