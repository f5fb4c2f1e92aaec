"""Where the pipeline's Postgres is: a configured server, or the embedded default.

Precedence (SPEC §10): DATABASE_URL; else DATABASE_HOST/PORT/NAME/USER/PASSWORD when
DATABASE_HOST is set; else the embedded cluster in DC_HOME (default `./.dc_pipeline`), which
is started on first use. The `dagster` instance database lives on the same server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres, StartReport
from dc_pipeline.adapters.postgres import database_url, ensure_database

SOURCE_DATABASE = "digi_cadence"
DAGSTER_DATABASE = "dagster"


def dc_home() -> Path:
    return Path(os.environ.get("DC_HOME") or Path.cwd() / ".dc_pipeline").resolve()


def configured_url(env: dict[str, str] | None = None) -> str | None:
    """The URL the environment configures, or None when the embedded default applies."""
    env = dict(os.environ if env is None else env)
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    if env.get("DATABASE_HOST"):
        user = quote(env.get("DATABASE_USER", "dc"), safe="")
        password = env.get("DATABASE_PASSWORD")
        auth = f"{user}:{quote(password, safe='')}" if password else user
        return (
            f"postgresql://{auth}@{env['DATABASE_HOST']}:{env.get('DATABASE_PORT', '5432')}/"
            f"{env.get('DATABASE_NAME', SOURCE_DATABASE)}"
        )
    return None


def embedded_server() -> EmbeddedPostgres:
    return EmbeddedPostgres(dc_home())


@dataclass(frozen=True)
class SourceLocation:
    url: str
    started: StartReport | None = None  # the embedded server's start, None for a configured server


def locate_source(create: bool = True, new_cluster: bool = True) -> SourceLocation:
    """The `digi_cadence` database, starting the embedded server when nothing is configured. With
    `new_cluster=False` a folder that never had a cluster is an error (EmbeddedPostgresError naming
    the folder and the fix), for commands that only make sense on existing data."""
    url = configured_url()
    if url:
        return SourceLocation(url)
    embedded = embedded_server()
    server = embedded.ensure_running(create=new_cluster)
    if create:
        ensure_database(server, SOURCE_DATABASE)
    return SourceLocation(database_url(server, SOURCE_DATABASE), embedded.last_start)


def resolve_source_url(create: bool = True) -> str:
    """The `digi_cadence` database URL, starting the embedded server when nothing is configured."""
    return locate_source(create).url


def resolve_dagster_url(source_url: str, create: bool = True) -> str:
    """The instance-storage database on the same server as the source database."""
    url = os.environ.get("DAGSTER_PG_URL") or database_url(source_url, DAGSTER_DATABASE)
    if create:
        ensure_database(url, urlsplit(url).path.lstrip("/"))
    return url
