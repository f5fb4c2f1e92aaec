"""`dc-pipeline report` on the materialized demo database: the same publish path as adhoc_report_job, files
written and listed, the report_index row recorded; bad arguments exit 2 with the fix."""

import json
from pathlib import Path

import pytest

from dc_pipeline import cli
from dc_pipeline.domain.reports.envelope import check_envelope_schema, check_insights_cite_numbers
from dc_pipeline_tests.conftest import restored_environment

pytestmark = pytest.mark.slow


def test_report_command_renders_reports_and_prints_their_paths(demo_pipeline, tmp_path, capsys):
    args = ["report", "--dsn", demo_pipeline.url, "--reports-dir", str(tmp_path), "--project", "p2",
            "--report", "executive_performance_dashboard,trend_prediction_analysis", "--report",
            "investment_priority_analysis", "--brand", "TechPhone", "--brand", "2", "--depth", "detailed"]  # fmt: skip
    with restored_environment():
        assert cli.main(args) == 0
    out = capsys.readouterr().out
    paths = [line.split(maxsplit=1)[1] for line in out.splitlines() if line.startswith(("  json", "  html", "  md"))]
    assert len(paths) == 9 and all(Path(p).is_file() and str(tmp_path) in p for p in paths)
    assert "p2 trend_prediction_analysis [FAIL]" in out  # 2 quarters, 6 needed
    dashboard = json.loads(Path(next(p for p in paths if "executive_performance_dashboard" in p
                                     and p.endswith(".json"))).read_text())  # fmt: skip
    assert check_envelope_schema(dashboard) == [] and check_insights_cite_numbers(dashboard) == []
    assert dashboard["data_context"]["brands_analyzed"] == [1, 2]  # the --brand subset
    assert dashboard["analysis"]["kpi_tiles"]["tiles"]["dc_mean"]["value"] == pytest.approx((81.2 + 87.8) / 2)
    assert dashboard["system_metadata"]["parameters"]["analysis_depth"] == "detailed"
    rows = demo_pipeline.query(
        "SELECT count(*) FROM dc_reports.report_index WHERE project_id = 2 AND paths->>'json' LIKE %s",
        (f"{tmp_path}%",),
    )
    assert rows[0][0] == 3


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--project", "p2", "--report", "nope"], "unknown report id(s) nope"),
        (["--project", "p999", "--report", "all"], "project 999 is not in the reference snapshot"),
        (["--project", "p2", "--report", "all", "--brand", "Brand Z"], "neither a brand id nor a brand name"),
        (["--project", "p2", "--report", "all", "--format", "pdf"], "output_format"),
    ],
)
def test_bad_arguments_exit_2_naming_the_fix(demo_pipeline, tmp_path, capsys, args, fragment):
    with restored_environment():
        code = cli.main(["report", "--dsn", demo_pipeline.url, "--reports-dir", str(tmp_path), *args])
    assert code == 2 and fragment in capsys.readouterr().err
