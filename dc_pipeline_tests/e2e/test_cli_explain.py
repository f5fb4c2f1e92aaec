"""`dc-pipeline explain` on the materialized demo (real Postgres, real Dagster instance): a report figure traced to
its inputs, the runs that wrote them and the normalisedvalue rows that recompute it exactly."""

import json
from pathlib import Path

import pytest

from dc_pipeline import cli
from dc_pipeline.adapters import postgres
from dc_pipeline.cli_explain import explain
from dc_pipeline.domain.settings import ScoringConfig
from dc_pipeline_tests.conftest import restored_environment

pytestmark = pytest.mark.slow

PROJECT = 102  # 12 monthly periods, 5 brands, metrics on several platforms per section


def _report(env, report_id: str) -> tuple[str, dict]:
    (path,) = env.query(
        "SELECT paths->>'json' FROM dc_reports.report_index WHERE project_id = %s AND report_id = %s "
        "ORDER BY generated_at DESC LIMIT 1",
        (PROJECT, report_id),
    )[0]
    return path, json.loads(Path(path).read_text())


def _explain(env, envelope: dict, pointer: str) -> dict:
    with postgres.connect(env.url) as conn:
        return explain(conn, envelope, pointer, ScoringConfig(), env.instance)


def test_a_dc_score_in_an_insight_traces_to_normalisedvalue_rows_that_recompute_it_exactly(demo_pipeline):
    path, envelope = _report(demo_pipeline, "dc_score_performance_analysis")
    (i, j) = next(
        (i, j)
        for i, item in enumerate(envelope["key_insights"])
        for j, fig in enumerate(item["figures"])
        if fig["path"].endswith("/dc_score")
    )
    figure = envelope["key_insights"][i]["figures"][j]
    result = _explain(demo_pipeline, envelope, f"/key_insights/{i}/figures/{j}/value")

    assert result["figure"]["pointer"] == figure["path"] and result["figure"]["value"] == figure["value"]
    brand_id, period = result["figure"]["brand_id"], result["figure"]["period"]
    assert period == envelope["analysis"]["latest_period"]["period"] and f"/brands/{brand_id}/" in figure["path"]
    source = result["source"]
    assert source["kind"] == "dc_score" and source["project_id"] == PROJECT and source["exact"] is True
    assert source["recomputed"] == pytest.approx(figure["value"], abs=1e-9)
    assert sum(r["contribution"] for r in source["rows"]) == pytest.approx(figure["value"], abs=1e-9)
    # the rows are the source table's own rows: same ids and values as public.normalisedvalue holds
    ids = [r["id"] for r in source["rows"]]
    stored = dict(demo_pipeline.query(
        "SELECT id, normalized_value FROM public.normalisedvalue WHERE project_id = %s AND brand_id = %s "
        "AND period = %s", (PROJECT, brand_id, period),
    ))  # fmt: skip
    assert set(ids) <= set(stored) and all(stored[r["id"]] == r["normalized_value"] for r in source["rows"])
    assert len(ids) == source["n_validated_rows"] and source["changed_since_validation"] == []
    assert {"metric_name", "metric_type", "weight", "effective_weight", "contribution"} <= set(source["rows"][0])
    assert sum(r["effective_weight"] for r in source["rows"]) == pytest.approx(1.0, abs=1e-9)

    (scores_input,) = [x for x in result["inputs"] if x["input"] == f"dc_scores/p{PROJECT}"]
    assert scores_input["asset"] == "dc_scores" and scores_input["current"] is True
    (writer,) = demo_pipeline.query("SELECT DISTINCT run_id FROM dc_core.dc_scores WHERE project_id = %s", (PROJECT,))[
        0
    ]
    assert writer in scores_input["runs"]
    assert any(m["run_id"] == writer and m["partition"] == f"p{PROJECT}" for m in scores_input["materializations"])


@pytest.mark.parametrize(
    "report_id, pointer_of, kind",
    [
        ("dc_score_performance_analysis", lambda b: f"/analysis/contributions/brands/{b}/sections/Marketplace",
         "section_contribution"),
        ("dc_score_performance_analysis", lambda b: f"/analysis/contributions/brands/{b}/top_contributions/0/value",
         "metric_contribution"),
        ("sectional_score_deep_dive", lambda b: f"/analysis/brand_profiles/brands/{b}/scores/Socialwatch",
         "section_score"),
    ],
)  # fmt: skip
def test_section_scores_and_contributions_recompute_exactly(demo_pipeline, report_id, pointer_of, kind):
    _, envelope = _report(demo_pipeline, report_id)
    brand_id = envelope["data_context"]["brands_analyzed"][0]
    result = _explain(demo_pipeline, envelope, pointer_of(brand_id))
    source = result["source"]
    assert source["kind"] == kind and source["exact"] is True and result["figure"]["brand_id"] == brand_id
    if kind != "section_score":  # a contribution is the sum of its metrics' contributions
        assert sum(r["contribution"] for r in source["rows"]) == pytest.approx(result["figure"]["value"], abs=1e-9)
    if kind == "metric_contribution":
        assert len(source["rows"]) == 1


def test_the_command_prints_the_lineage_and_refuses_bad_pointers(demo_pipeline, capsys):
    path, envelope = _report(demo_pipeline, "dc_score_performance_analysis")
    leader = envelope["analysis"]["latest_period"]["leader_brand_id"]
    with restored_environment():
        code = cli.main(
            ["explain", "--dsn", demo_pipeline.url, path, f"/analysis/latest_period/brands/{leader}/dc_score"]
        )
        out = capsys.readouterr().out
        assert code == 0
        assert f"dc_scores/p{PROJECT}" in out and "written by run" in out
        assert "recomputed from these rows" in out and "= the figure (exact to 1e-9)" in out
        assert cli.main(["explain", "--dsn", demo_pipeline.url, path, "/analysis/nope"]) == 2
        assert "key 'nope' not found" in capsys.readouterr().err
        assert cli.main(["explain", "--dsn", demo_pipeline.url, path, "/analysis/trend/n"]) == 0
        assert "no brand" in capsys.readouterr().out
