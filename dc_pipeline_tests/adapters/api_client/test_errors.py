"""Errors of the client: secrets echoed by a server are redacted, and errors survive pickling."""

from __future__ import annotations

import pickle

import pytest
import requests

from dc_pipeline.adapters.api_client import (
    ApiClientSettings,
    ApiResponseInvalid,
    ApiUnavailable,
    DigiCadenceClient,
    ProcessRequestGate,
)


class _EchoSession(requests.Session):
    """A server that echoes the credentials it got in a 500 body (a real-world leak path)."""

    def request(self, method, url, **kwargs):  # type: ignore[no-untyped-def, override]
        response = requests.Response()
        response.status_code = 500
        response._content = f"boom, you sent {kwargs['headers']}".encode()
        response.url = url
        return response


def test_echoed_secrets_are_redacted_from_errors() -> None:
    settings = ApiClientSettings(base_urls=("http://x:1",), auth_token="tok-abcdef-123", retry_attempts=1)
    client = DigiCadenceClient(settings, session=_EchoSession(), sleep=lambda s: None, gate=ProcessRequestGate())
    with pytest.raises(ApiUnavailable) as info:
        client.weight_sum(1)
    assert "boom, you sent" in str(info.value) and "***" in str(info.value)
    assert "tok-abcdef-123" not in str(info.value) and "tok-abcdef-123" not in " ".join(info.value.answers)


def test_api_errors_survive_pickling_with_their_fields() -> None:
    error = ApiResponseInvalid(
        "bad body", service="insights", endpoint="GET /get_multi_data", status=200, problems=("<body>: not valid JSON",)
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ApiResponseInvalid and str(copy) == "bad body"
    assert (copy.service, copy.endpoint, copy.problems) == (
        "insights",
        "GET /get_multi_data",
        ("<body>: not valid JSON",),
    )
