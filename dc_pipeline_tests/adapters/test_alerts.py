"""Alerts reach a real local HTTP server and never carry a secret."""

import json

from dc_pipeline.adapters.alerts import Alert, redact, send_alert


def test_alert_posted_and_scrubbed(webhook, caplog):
    url, received = webhook
    env = {"DATABASE_PASSWORD": "s3cr3tpw", "API_KEY": "key-abc-123", "ALERT_WEBHOOK_URL": url}
    alert = Alert(
        "source_db down",
        "error",
        "cannot reach postgresql://dc:s3cr3tpw@db:5432/x",
        "system_health_sensor",
        details={"header": "Bearer key-abc-123", "n": 3},
    )
    with caplog.at_level("ERROR", logger="dc_pipeline.alerts"):
        delivery = send_alert(alert, env=env)
    assert delivery.webhook == "sent (HTTP 200)"
    assert len(received) == 1
    body = received[0]
    assert body["title"] == "source_db down" and body["details"]["n"] == 3
    text = json.dumps(body) + caplog.text
    assert "s3cr3tpw" not in text and "key-abc-123" not in text
    assert "postgresql://dc:***@db:5432/x" in body["message"] and "[ERROR] source_db down" in caplog.text


def test_webhook_unreachable_is_reported_not_raised():
    delivery = send_alert(Alert("t", "warning", "m", "test"), webhook_url="http://127.0.0.1:9/none", env={})
    assert delivery.logged and delivery.webhook.startswith("failed:")
    assert send_alert(Alert("t", "info", "m", "test"), env={}).webhook == "not configured"


def test_redact_urls_and_env_secrets():
    assert redact("x postgresql://u:p%40ss@h/db y", env={}) == "x postgresql://u:***@h/db y"
    assert redact("token tok123", env={"AUTH_TOKEN": "tok123"}) == "token ***"
