"""Fixtures of the adapter tests: the API simulator the client and cache tests talk to over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dc_pipeline.demo.simulator import ApiSimulator
from dc_pipeline_tests.api_helpers import API_KEY, SECRET_KEY, tiny_tables


@pytest.fixture
def sim() -> Iterator[ApiSimulator]:
    """Two ports of one simulator (two replicas of every service), API key required."""
    with ApiSimulator(tiny_tables(), ports=(0, 0), secret_key=SECRET_KEY, api_key=API_KEY, seed=7) as simulator:
        yield simulator
