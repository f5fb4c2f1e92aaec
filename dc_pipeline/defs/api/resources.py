"""`dc_api`: the Digi-Cadence API resource (SPEC §3, §10).

Fields are strings bound from environment variables with `dg.EnvVar` (secrets are resolved at
launch and never shown in the UI); numbers are parsed by `ApiClientSettings.from_config`, which
names the variable on a bad value. `client()` builds a `DigiCadenceClient` whose cache is
`dc_staging.api_cache` (TTL CACHE_TIMEOUT), wrapped in a recorder so assets can land raw bodies.
"""

import dagster as dg

from dc_pipeline.adapters.api_cache_postgres import PostgresResponseCache, RecordingCache
from dc_pipeline.adapters.api_client import ApiClientSettings, DigiCadenceClient
from dc_pipeline.defs.resources import PostgresResource, SettingsResource
from dc_pipeline.domain.settings import ConfigError

# Environment variable -> resource field (SPEC §10).
ENV_FIELDS = {
    "API_BASE_URLS": "base_urls",
    "API_TIMEOUT": "timeout",
    "API_RETRY_ATTEMPTS": "retry_attempts",
    "API_RETRY_DELAY": "retry_delay",
    "API_KEY": "api_key",
    "AUTH_TOKEN": "auth_token",
    "CACHE_TIMEOUT": "cache_timeout",
}
SECRET_ENV = ("API_KEY", "AUTH_TOKEN")


class DigiCadenceApiResource(dg.ConfigurableResource):
    """Empty strings fall back to `system_config.json` (api_config, caching_config), then defaults."""

    base_urls: str = ""
    timeout: str = ""
    retry_attempts: str = ""
    retry_delay: str = ""
    api_key: str = ""
    auth_token: str = ""
    cache_timeout: str = ""
    db: dg.ResourceDependency[PostgresResource]
    settings: dg.ResourceDependency[SettingsResource]

    def client_settings(self) -> ApiClientSettings:
        env = {name: getattr(self, field) for name, field in ENV_FIELDS.items()}
        return ApiClientSettings.from_config(self.settings.load(), env=env)

    def cache_ttl_s(self) -> float:
        raw = self.cache_timeout.strip()
        if not raw:
            return float(self.settings.load().caching_config.cache_timeout)
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"CACHE_TIMEOUT={raw!r} is not a number of seconds") from None
        if value < 0:
            raise ConfigError(f"CACHE_TIMEOUT must be >= 0 s, got {raw}")
        return value

    def client(self, recorder: RecordingCache | None = None) -> DigiCadenceClient:
        """A new client (own counters and breakers, for one asset execution). Its cache is the
        Postgres cache unless `caching_config.enable_caching` is false; pass `recorder` (whose
        inner cache this sets) to see the bodies the client used."""
        config = self.settings.load()
        inner = (
            PostgresResponseCache(self.db.resolved_url(), ttl_s=self.cache_ttl_s())
            if config.caching_config.enable_caching
            else None
        )
        if recorder is None:
            recorder = RecordingCache()
        recorder.inner = inner
        return DigiCadenceClient(self.client_settings(), cache=recorder)
