"""`dc-pipeline quality` on the demo database (DATABASE_URL set by the dq_env fixture)."""

from __future__ import annotations

import json

from dc_pipeline import cli
from dc_pipeline.adapters import postgres


def test_clean_project_is_excellent_and_exits_0(dq_env, capsys):
    assert cli.main(["quality", "--project", "101"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("DQ p101") and "excellent" in first
    for dimension in ("completeness", "validity", "uniqueness", "timeliness", "consistency", "volume"):
        assert dimension in out


def test_faulty_project_reports_its_quarantine_by_rule(dq_env, capsys):
    (faults,) = dq_env.query("SELECT planted_faults FROM dc_ops.demo_load")[0]
    pid, f = faults["project_id"], faults["faults"]
    code = cli.main(["quality", "--project", f"p{pid}", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == (1 if summary["band"] == "poor" else 0)
    assert summary["quarantine"]["normalisedvalue/V1"] == f["out_of_range_values"]["count"]
    assert summary["quarantine"]["normalisedvalue/V2"] == f["unknown_metric_rows"]["count"]
    assert summary["quarantine"]["business_outcomes/V5"] == f["negative_revenue"]["count"]
    assert summary["dimensions"]["validity"]["score"] < 1.0 and summary["score"] < 1.0
    assert {r["rule_id"] for r in summary["failed_rules"]} >= {"V1", "V2", "U1", "K1", "K2", "K5", "V5"}


def test_brand_left_with_one_period_is_poor_and_exits_1(dq_env, capsys):
    pid = 103
    brand_id, name = dq_env.query(
        "SELECT b.brand_id, b.brand_name FROM public.project_brands pb JOIN public.brands b USING (brand_id) "
        "WHERE pb.project_id = %s ORDER BY b.brand_id LIMIT 1",
        (pid,),
    )[0]
    with postgres.connect(dq_env.url) as conn:
        conn.execute(
            "DELETE FROM public.normalisedvalue WHERE project_id = %(p)s AND brand_id = %(b)s AND period > "
            "(SELECT min(period) FROM public.normalisedvalue WHERE project_id = %(p)s)",
            {"p": pid, "b": brand_id},
        )
        conn.commit()
    assert cli.main(["quality", "--project", str(pid), "--brand", name.upper(), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    (brand,) = summary["brands"]
    assert brand["brand_id"] == brand_id and brand["band"] == "poor" and brand["score"] < 0.6
    assert summary["band"] != "poor"  # the project as a whole still passes: the brand alone is poor


def test_bad_arguments_exit_2_naming_the_fix(dq_env, capsys):
    assert cli.main(["quality", "--project", "999"]) == 2
    err = capsys.readouterr().err
    assert "project 999 is not in public.projects" in err and "101" in err
    assert cli.main(["quality", "--project", "101", "--brand", "No Such Brand"]) == 2
    assert "members of project 101" in capsys.readouterr().err
    assert cli.main(["quality", "--project", "101", "--brand", "1"]) == 2  # TechPhone is not in project 101
    assert "not a member of project 101" in capsys.readouterr().err
