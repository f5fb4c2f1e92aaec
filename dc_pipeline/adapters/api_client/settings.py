"""Client settings (SPEC §3, §10): base URLs, timeouts, retry, concurrency, breaker and credentials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dc_pipeline.adapters.api_client.auth import Secret, secret_or_none
from dc_pipeline.domain.settings import ConfigError, SystemConfig

DEFAULT_BASE_URLS: tuple[str, ...] = ("http://localhost:7000", "http://localhost:8001", "http://localhost:8002")
# The port map of SPEC §3, for deployments that set `api_config.service_ports` to it.
SPEC_SERVICE_PORTS: dict[str, int] = {
    "frontend": 7000,
    "normalized": 8001,
    "weight_sum": 8002,
    "insights": 8004,
    "brand_data": 8018,
    "analytics_metric": 8025,
}
SERVICES: tuple[str, ...] = (*SPEC_SERVICE_PORTS, "auth")
ANALYTICS_PATHS: tuple[str, ...] = ("/analytics/metrics", "/get_analytics", "/analytics")


@dataclass(frozen=True)
class ApiClientSettings:
    base_urls: tuple[str, ...] = DEFAULT_BASE_URLS
    timeout: float = 30.0
    retry_attempts: int = 3
    retry_delay: float = 1.0
    max_concurrent_requests: int = 10
    service_ports: Mapping[str, int] | None = None
    api_key: Secret | None = None
    auth_token: Secret | None = None
    token_refresh_threshold: float = 300.0
    breaker_failure_threshold: int = 5
    breaker_cooldown_s: float = 30.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 300.0
    seed: int = 42

    def __post_init__(self) -> None:
        urls = tuple(u.strip().rstrip("/") for u in self.base_urls if u and u.strip())
        if not urls:
            raise ConfigError("API_BASE_URLS is empty: give at least one base URL, e.g. http://localhost:7000")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigError(f"API_BASE_URLS entry {url!r} is not an http(s) URL with a host")
        object.__setattr__(self, "base_urls", urls)
        object.__setattr__(self, "api_key", secret_or_none(self.api_key))  # type: ignore[arg-type]
        object.__setattr__(self, "auth_token", secret_or_none(self.auth_token))  # type: ignore[arg-type]
        if self.timeout <= 0:
            raise ConfigError(f"API_TIMEOUT must be > 0 s, got {self.timeout}")
        if self.retry_attempts < 0 or self.retry_delay < 0:
            raise ConfigError("API_RETRY_ATTEMPTS and API_RETRY_DELAY must be >= 0")
        if self.max_concurrent_requests < 1:
            raise ConfigError("api_config.max_concurrent_requests must be >= 1")

    @classmethod
    def from_config(
        cls, config: SystemConfig, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> ApiClientSettings:
        """SPEC §10 precedence for the API: environment over `system_config.json` over defaults."""
        env = os.environ if env is None else env
        api = config.api_config
        raw_urls = (env.get("API_BASE_URLS") or "").strip()
        values: dict[str, Any] = dict(
            base_urls=tuple(raw_urls.split(",")) if raw_urls else DEFAULT_BASE_URLS,
            timeout=_env_number(env, "API_TIMEOUT", api.timeout, float),
            retry_attempts=_env_number(env, "API_RETRY_ATTEMPTS", api.retry_attempts, int),
            retry_delay=_env_number(env, "API_RETRY_DELAY", api.retry_delay, float),
            max_concurrent_requests=api.max_concurrent_requests,
            service_ports=api.service_ports,
            api_key=env.get("API_KEY") or None,
            auth_token=env.get("AUTH_TOKEN") or None,
            token_refresh_threshold=config.auth_config.token_refresh_threshold,
            seed=config.random_seed,
        )
        values.update(overrides)
        return cls(**values)


def _env_number(env: Mapping[str, str], name: str, default: float, kind: type) -> Any:
    """`kind(env[name])`, or `kind(default)` when unset or blank; a bad value names the variable."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return kind(default)
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
