from datetime import UTC, datetime, timedelta

import pytest

from dc_pipeline.domain.operations import health as h

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def test_all_ok_is_healthy():
    summary = h.summarize(
        [h.ComponentCheck("source_db", h.OK, "fine", critical=True), h.ComponentCheck("api", h.OK, "3 up")], NOW
    )
    assert summary.status == h.HEALTHY and summary.reasons == []


def test_noncritical_failure_degrades_and_critical_failure_is_unhealthy_first_reason():
    degraded = h.summarize(
        [
            h.ComponentCheck("source_db", h.OK, "fine", critical=True),
            h.ComponentCheck("api", h.DOWN, "connection refused"),
        ],
        NOW,
    )
    assert degraded.status == h.DEGRADED and degraded.reasons == ["api down: connection refused"]
    bad = h.summarize(
        [
            h.ComponentCheck("api", h.DOWN, "refused"),
            h.ComponentCheck("source_db", h.DOWN, "cannot connect", critical=True),
        ],
        NOW,
    )
    assert bad.status == h.UNHEALTHY
    assert bad.reasons[0].startswith("source_db (critical) down")
    # A critical component that only warns (slow) degrades.
    slow = h.summarize([h.ComponentCheck("source_db", h.WARN, "SELECT 1 took 2.5 s", critical=True)], NOW)
    assert slow.status == h.DEGRADED


def test_transition_only_once():
    assert h.is_transition_to_unhealthy("healthy", "unhealthy")
    assert h.is_transition_to_unhealthy(None, "unhealthy")
    assert not h.is_transition_to_unhealthy("unhealthy", "unhealthy")
    assert not h.is_transition_to_unhealthy("unhealthy", "healthy")


def test_age_check_states():
    fresh = h.age_check("freshness", {"dc_scores": NOW - timedelta(hours=2)}, NOW, 26)
    assert fresh.state == h.OK and fresh.measurements["age_hours"]["dc_scores"] == 2.0
    stale = h.age_check("freshness", {"dc_scores": NOW - timedelta(hours=30), "src": NOW}, NOW, 26)
    assert stale.state == h.WARN and "dc_scores (30.0 h)" in stale.detail
    never = h.age_check("freshness", {"dc_scores": None}, NOW, 26)
    assert never.state == h.MISSING and "never: dc_scores" in never.detail


def test_disk_dq_heartbeat():
    assert h.disk_check({"/r": 0.5, "/b": 0.05}).state == h.WARN
    assert h.disk_check({"/r": 0.5}).state == h.OK
    dq = h.dq_check({"p1": (91.0, "excellent"), "p104": (40.0, "poor")})
    assert dq.state == h.WARN and "p104 (40.0)" in dq.detail and dq.measurements["mean_score"] == 65.5
    assert h.dq_check({}).state == h.MISSING
    assert h.heartbeat_check({}, NOW).state == h.DOWN
    assert h.heartbeat_check({"SENSOR": NOW - timedelta(seconds=30)}, NOW).state == h.OK
    assert h.heartbeat_check({"SENSOR": NOW - timedelta(seconds=600)}, NOW).state == h.WARN


def test_unknown_state_rejected():
    with pytest.raises(ValueError):
        h.ComponentCheck("x", "bad", "")


def test_an_outage_is_not_hidden_by_a_later_answer():
    checks = [
        h.ComponentCheck("source_db", h.OK, "SELECT 1 in 3 ms", critical=True, measurements={"latency_ms": 3}),
        h.ComponentCheck("dq", h.OK, "fine"),
    ]
    summary = h.with_outage(h.summarize(checks, NOW), "source_db", "was down; started by this check")
    source = summary.components[0]
    assert (source.state, source.detail) == (h.WARN, "was down; started by this check; now: SELECT 1 in 3 ms")
    assert source.measurements == {"latency_ms": 3, "was_down": True}
    assert summary.status == h.DEGRADED and summary.reasons[0].startswith("source_db (critical) warn: was down")
    assert summary.components[1] == checks[1]
