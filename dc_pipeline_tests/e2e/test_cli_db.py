"""`dc-pipeline db ...` against a real server: init, load-demo (idempotent), url."""

from dc_pipeline import cli
from dc_pipeline.adapters import postgres
from dc_pipeline_tests.conftest import restored_environment


def test_db_commands_load_once_and_report_the_url(fresh_db, capsys):
    with restored_environment():
        assert cli.main(["db", "init", "--dsn", fresh_db]) == 0
        assert cli.main(["db", "load-demo", "--dsn", fresh_db, "--size", "small", "--seed", "7"]) == 0
        first = capsys.readouterr().out
        assert "normalisedvalue:" in first
        with postgres.connect(fresh_db) as conn:
            rows = conn.execute("SELECT count(*) FROM public.normalisedvalue").fetchone()[0]
        assert cli.main(["db", "load-demo", "--dsn", fresh_db, "--size", "small", "--seed", "7"]) == 0
        assert "already loaded" in capsys.readouterr().out
        with postgres.connect(fresh_db) as conn:
            assert conn.execute("SELECT count(*) FROM public.normalisedvalue").fetchone()[0] == rows
        assert cli.main(["db", "url", "--dsn", fresh_db]) == 0
        assert capsys.readouterr().out.strip() == fresh_db


def test_unreachable_database_is_one_line_naming_the_fix(capsys):
    with restored_environment():
        code = cli.main(["db", "init", "--dsn", "postgresql://dc:hunter2@127.0.0.1:1/digi_cadence"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "hunter2" not in err and "DATABASE_URL" in err
