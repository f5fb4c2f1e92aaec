"""Client settings from config and environment, and the per-service routing they give."""

from __future__ import annotations

import pytest

from dc_pipeline.adapters.api_client import ApiClientSettings, DigiCadenceClient, ProcessRequestGate
from dc_pipeline.domain.settings import ConfigError, SystemConfig, parse_system_config


def test_settings_from_config_environment_wins() -> None:
    config = parse_system_config(
        {
            "api_config": {
                "timeout": 12,
                "retry_attempts": 5,
                "max_concurrent_requests": 4,
                "service_ports": {"normalized": 8001},
            },
            "auth_config": {"token_refresh_threshold": 60},
            "random_seed": 9,
        }
    )
    settings = ApiClientSettings.from_config(
        config, env={"API_BASE_URLS": "http://a:7000/, http://b:7000", "API_RETRY_ATTEMPTS": "1", "API_KEY": "key-1"}
    )
    assert settings.base_urls == ("http://a:7000", "http://b:7000")
    assert (settings.timeout, settings.retry_attempts, settings.max_concurrent_requests) == (12, 1, 4)
    assert (settings.token_refresh_threshold, settings.seed) == (60, 9)
    assert settings.api_key is not None and settings.auth_token is None
    defaults = ApiClientSettings.from_config(SystemConfig(), env={})
    assert defaults.base_urls == ("http://localhost:7000", "http://localhost:8001", "http://localhost:8002")
    assert (defaults.timeout, defaults.retry_attempts, defaults.retry_delay) == (30, 3, 1)
    with pytest.raises(ConfigError, match="API_TIMEOUT='soon' is not a valid float"):
        ApiClientSettings.from_config(SystemConfig(), env={"API_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="not an http"):
        ApiClientSettings(base_urls=("localhost:7000",))


def test_service_ports_keep_the_host_and_dedupe() -> None:
    settings = ApiClientSettings(
        base_urls=("http://h1:7000", "http://h1:8001", "http://h2:7000"), service_ports={"normalized": 8001}
    )
    client = DigiCadenceClient(settings, gate=ProcessRequestGate())
    assert client.urls_for("normalized") == ("http://h1:8001", "http://h2:8001")
    assert client.urls_for("frontend") == settings.base_urls
