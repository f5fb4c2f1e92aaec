"""Alerts: always to the `dc_pipeline.alerts` logger, and to ALERT_WEBHOOK_URL when set (JSON POST).

Every text is scrubbed of secrets first (DATABASE_PASSWORD, API_KEY, AUTH_TOKEN, SECRET_KEY values
and passwords inside URLs), so an alert never leaks one.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

SECRET_ENV_VARS = ("DATABASE_PASSWORD", "API_KEY", "AUTH_TOKEN", "SECRET_KEY")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+):(?P<password>[^@\s/]+)@")
LOGGER = logging.getLogger("dc_pipeline.alerts")
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


@dataclass(frozen=True)
class Alert:
    title: str
    severity: str  # info | warning | error
    message: str
    source: str  # the sensor or job that raised it
    details: Mapping[str, Any] = field(default_factory=dict)
    raised_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


@dataclass(frozen=True)
class Delivery:
    logged: bool
    webhook: str  # 'not configured' | 'sent (HTTP 200)' | 'failed: ...'


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """The text with secret values and URL passwords replaced by ***."""
    env = os.environ if env is None else env
    out = _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}:***@", text)
    for name in SECRET_ENV_VARS:
        value = env.get(name)
        if value and len(value) >= 3:
            out = out.replace(value, "***")
    return out


def _scrub(value: Any, env: Mapping[str, str] | None) -> Any:
    if isinstance(value, str):
        return redact(value, env)
    if isinstance(value, Mapping):
        return {str(k): _scrub(v, env) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, env) for v in value]
    return value


def payload(alert: Alert, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The JSON body posted to the webhook (also used for the log line)."""
    body = _scrub(json.loads(json.dumps(asdict(alert), default=str)), env)
    body["text"] = f"[{body['severity'].upper()}] {body['title']}: {body['message']}"  # Slack-compatible
    return body


def send_alert(
    alert: Alert, webhook_url: str | None = None, timeout_s: float = 5.0, env: Mapping[str, str] | None = None
) -> Delivery:
    """Log the alert and, with a webhook URL (default ALERT_WEBHOOK_URL), POST it. A webhook
    failure is logged and reported, never raised: alerting must not break the sensor."""
    env_map = os.environ if env is None else env
    body = payload(alert, env_map)
    LOGGER.log(_LEVELS.get(alert.severity, logging.WARNING), "%s", body["text"])
    url = webhook_url if webhook_url is not None else env_map.get("ALERT_WEBHOOK_URL", "")
    if not url:
        return Delivery(logged=True, webhook="not configured")
    try:
        response = requests.post(url, json=body, timeout=timeout_s)
    except requests.RequestException as exc:
        reason = redact(f"{type(exc).__name__}: {exc}", env_map)
        LOGGER.warning("alert webhook %s unreachable: %s", redact(url, env_map), reason)
        return Delivery(logged=True, webhook=f"failed: {reason}"[:300])
    if response.status_code >= 300:
        LOGGER.warning("alert webhook answered HTTP %s", response.status_code)
        return Delivery(logged=True, webhook=f"failed: HTTP {response.status_code}")
    return Delivery(logged=True, webhook=f"sent (HTTP {response.status_code})")
