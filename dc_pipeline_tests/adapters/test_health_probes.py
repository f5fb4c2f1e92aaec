"""Probes against a real server, a real folder and real HTTP on loopback."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from dc_pipeline.adapters import health_probes as probes
from dc_pipeline.adapters import postgres
from dc_pipeline.domain.operations.health import DOWN, MISSING, OK, WARN


def test_database_probe_schema_and_unreachable(fresh_db):
    incomplete = probes.probe_database(fresh_db)
    assert incomplete.state == MISSING and "public.brands missing" in incomplete.detail
    with postgres.connect(fresh_db) as conn:
        postgres.init_source_schema(conn)
        conn.commit()
    ok = probes.probe_database(fresh_db)
    assert ok.state == OK and ok.critical and ok.measurements["latency_ms"] >= 0
    down = probes.probe_database("postgresql://dc:pw-xyz@127.0.0.1:9/none", timeout_s=2)
    assert down.state == DOWN and "pw-xyz" not in down.detail and "***" in down.detail


def test_optuna_probe_without_tables(fresh_db):
    check = probes.probe_optuna(fresh_db)
    assert check.state == OK and "no Optuna studies yet" in check.detail
    with postgres.connect(fresh_db) as conn:
        conn.execute("CREATE SCHEMA optuna; CREATE TABLE optuna.studies (study_id int)")
        conn.execute("INSERT INTO optuna.studies VALUES (1), (2)")
        conn.commit()
    assert probes.probe_optuna(fresh_db).measurements["studies"] == 2


def test_report_store_probe(tmp_path):
    assert probes.probe_report_store(tmp_path / "reports").state == OK
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert probes.probe_report_store(blocker / "reports").state == DOWN
    fractions = probes.free_fractions([tmp_path, tmp_path / "not" / "yet"])
    assert all(0 < f <= 1 for f in fractions.values())


def test_api_probe_up_missing_down():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.server.server_port == up.server_port else 404)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    up, missing = HTTPServer(("127.0.0.1", 0), Handler), HTTPServer(("127.0.0.1", 0), Handler)
    for server in (up, missing):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        urls = [f"http://127.0.0.1:{up.server_port}", f"http://127.0.0.1:{missing.server_port}", "http://127.0.0.1:9"]
        check = probes.probe_api(urls, timeout_s=2)
        assert check.state == WARN
        assert check.measurements["services"] == {urls[0]: "up", urls[1]: "missing", urls[2]: "down"}
        assert probes.probe_api(urls[2:], timeout_s=2).state == DOWN
        assert probes.probe_api([]).state == MISSING
    finally:
        up.shutdown()
        missing.shutdown()
