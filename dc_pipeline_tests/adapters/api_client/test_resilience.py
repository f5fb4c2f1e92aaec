"""The resilience policy on its own: the backoff formula and the breaker's state machine."""

from __future__ import annotations

from dc_pipeline.adapters.api_client.resilience import Backoff, CircuitBreaker
from dc_pipeline_tests.api_helpers import FakeClock


def test_backoff_follows_the_formula_and_is_seeded() -> None:
    def delays(seed: int) -> list[float]:
        backoff = Backoff(retry_delay=1, max_backoff_s=30, max_retry_after_s=300, seed=seed)
        return [backoff.delay(k, None) for k in range(7)]

    first = delays(1)
    assert first == delays(1) and first != delays(2)
    for k, delay in enumerate(first):
        base = min(30, 2**k)
        assert 0.5 * base <= delay <= 1.5 * base
    backoff = Backoff(retry_delay=1, max_backoff_s=30, max_retry_after_s=50, seed=42)
    assert backoff.delay(0, 20.0) == 20.0 and backoff.delay(0, 500.0) == 50.0


def test_breaker_state_machine() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    breaker.record_success()  # consecutive failures only
    for _ in range(3):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.advance(10)
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # exactly one probe
    breaker.record_failure()
    assert breaker.state == "open" and breaker.opens == 2
    clock.advance(10)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()
