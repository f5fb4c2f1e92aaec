"""The errors a Digi-Cadence call raises, and the body excerpt they quote.

Every error's message names the service, the endpoint and what each base URL answered; the
attributes say the same for code. Messages are built from redacted text only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ANSWER_CHARS = 200  # body excerpt kept in error messages


class ApiError(Exception):
    """A Digi-Cadence call failed. Attributes say where; `str()` says what, without secrets."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        endpoint: str,
        status: int | None = None,
        answers: tuple[str, ...] = (),
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.endpoint = endpoint
        self.status = status
        self.answers = answers
        self.attempts = attempts

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes despite keyword-only fields
        return (_rebuild_error, (type(self), str(self), dict(self.__dict__)))


def _rebuild_error(cls: type[ApiError], message: str, state: dict[str, Any]) -> ApiError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class ApiAuthError(ApiError):
    """401/403 that one token refresh did not fix, or no API key to refresh with."""


class ApiUnavailable(ApiError):
    """Retries exhausted on transient failures, or every circuit of the service is open."""


class ApiClientError(ApiError):
    """A 4xx other than 401/429: the request is wrong, retrying cannot help."""


class ApiNotFound(ApiClientError):
    """HTTP 404: the endpoint or the resource does not exist on that service."""


class ApiResponseInvalid(ApiError):
    """A 2xx body that is not JSON (after the retries) or does not have the expected shape."""

    def __init__(self, message: str, *, problems: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.problems = problems


def excerpt(body: bytes, redact: Callable[[str], str]) -> str:
    """The first ANSWER_CHARS characters of a body, on one line, secrets replaced by ***."""
    text = redact(body[: ANSWER_CHARS * 2].decode("utf-8", errors="replace").replace("\n", " "))
    return text[:ANSWER_CHARS] + ("…" if len(body) > ANSWER_CHARS else "")
