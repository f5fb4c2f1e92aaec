"""REPORTS_DIR over real HTTP on 127.0.0.1: pages are served, nothing can be written, nothing outside the folder."""

from __future__ import annotations

import requests

from dc_pipeline.adapters.report_server import ReportServer


def test_serves_pages_read_only(tmp_path):
    page = tmp_path / "reports" / "p1" / "dc_score_performance_analysis" / "latest.html"
    page.parent.mkdir(parents=True)
    page.write_text("<h1>DC</h1>")
    (tmp_path / "secret.txt").write_text("outside")
    server = ReportServer(tmp_path / "reports").start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        got = requests.get(f"{server.url}/p1/dc_score_performance_analysis/latest.html", timeout=5)
        assert got.status_code == 200 and got.text == "<h1>DC</h1>"
        assert requests.put(f"{server.url}/p1/x.html", data="x", timeout=5).status_code == 501
        assert requests.get(f"{server.url}/../secret.txt", timeout=5).status_code == 404
        assert not (tmp_path / "reports" / "p1" / "x.html").exists()
    finally:
        server.stop()
