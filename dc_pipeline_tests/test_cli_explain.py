"""`dc-pipeline explain` refusing what it cannot explain, before any database is read: a file that is not a report
envelope, and a figure that is not a number (the end-to-end lineage is in e2e/test_cli_explain.py)."""

import json

import pytest

from dc_pipeline.cli_explain import UsageError, read_envelope, source_lineage
from dc_pipeline.domain.lineage.about import figure_about


@pytest.mark.parametrize(
    "content, fix",
    [(None, "give the path of a report's .json"), ("<html>", "not its .html or .md"),
     (json.dumps({"report_id": "x"}), "no 'analysis'")],
)  # fmt: skip
def test_a_file_that_is_not_a_report_envelope_is_refused_naming_the_fix(tmp_path, content, fix):
    path = tmp_path / "report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=fix):
        read_envelope(str(path))


def test_a_figure_that_is_not_a_number_gets_a_note_and_no_rows():
    envelope = {"analysis": {"latest": {"period": "2024-12-01", "brands": {"16": {"brand_name": "Brand F"}}}},
                "data_context": {"brands_analyzed": [16]}}  # fmt: skip
    about = figure_about(envelope, "/analysis/latest/brands/16/brand_name")
    assert (about.brand_id, about.period) == (16, "2024-12-01")
    source = source_lineage(None, envelope, about, None)  # no database: the note comes before any read
    assert set(source) == {"note"} and "'Brand F', not a number" in source["note"]
