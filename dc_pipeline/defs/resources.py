"""Dagster resources: thin wrappers that hand adapters their settings (SPEC §10)."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg
from pydantic import PrivateAttr

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.database_location import resolve_source_url
from dc_pipeline.domain.settings import SystemConfig, parse_system_config

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[1] / "config" / "system_config.json"


class PostgresResource(dg.ConfigurableResource):
    """The `digi_cadence` database. An empty url means: DATABASE_URL / DATABASE_HOST... from the
    environment, else the embedded server."""

    url: str = ""
    statement_timeout_s: int = 0
    _resolved: str | None = PrivateAttr(default=None)

    def resolved_url(self) -> str:
        if self._resolved is None:
            self._resolved = self.url or resolve_source_url()
        return self._resolved

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A connection whose transaction commits on success and rolls back on error."""
        conn = postgres.connect(self.resolved_url(), statement_timeout_s=self.statement_timeout_s or None)
        try:
            with conn.transaction():
                yield conn
        finally:
            conn.close()


class SettingsResource(dg.ConfigurableResource):
    """`config/system_config.json` (path DC_CONFIG_PATH), validated when definitions load."""

    config_path: str = ""

    def load(self) -> SystemConfig:
        path = Path(self.config_path or os.environ.get("DC_CONFIG_PATH") or DEFAULT_CONFIG_PATH)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise dg.Failure(
                description=f"configuration file {path} not found: create it "
                "(copy dc_pipeline/config/system_config.json) or point DC_CONFIG_PATH at it"
            ) from None
        except json.JSONDecodeError as exc:
            raise dg.Failure(description=f"configuration file {path} is not valid JSON: {exc}") from None
        return parse_system_config(raw, str(path))


class ReportStoreResource(dg.ConfigurableResource):
    """Folder for rendered reports (REPORTS_DIR)."""

    reports_dir: str = "reports"

    def root(self) -> Path:
        path = Path(self.reports_dir).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path
