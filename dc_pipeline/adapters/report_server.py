"""Serves REPORTS_DIR read-only over HTTP on 127.0.0.1, so a report partition in the Dagster UI links to its page
in one click (a browser does not follow file:// links from an http page)."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _ReadOnlyHandler(SimpleHTTPRequestHandler):
    """GET and HEAD only (SimpleHTTPRequestHandler answers nothing else); no request log on stderr."""

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


class ReportServer:
    def __init__(self, root: Path, port: int = 0, host: str = "127.0.0.1"):
        root = Path(root).resolve()
        root.mkdir(parents=True, exist_ok=True)
        handler = functools.partial(_ReadOnlyHandler, directory=str(root))
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="report-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReportServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
