"""Dagster resources shared by every stage: thin wrappers that hand adapters their settings (SPEC §10), and the
one rule that binds them to the environment."""

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


def env_value(name: str, default=None, kind: str = "str"):
    """A `dg.EnvVar` when the variable is set and not empty (resolved at launch, shown as a variable and never as
    its value in the UI), else `default`. Empty counts as unset, so an empty line in a .env file never overrides
    a default."""
    if not os.environ.get(name):
        return default
    return dg.EnvVar.int(name) if kind == "int" else dg.EnvVar(name)


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


class FolderResource(dg.ConfigurableResource):
    """A folder the pipeline writes files to: rendered reports (REPORTS_DIR), model artifacts (MODELS_DIR).
    `public_url`: where the folder is served over HTTP, if it is (REPORTS_URL), so the UI can link to files."""

    path: str
    public_url: str = ""

    def root(self) -> Path:
        folder = Path(self.path).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder
