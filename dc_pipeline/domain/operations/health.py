"""System health: component checks and their aggregation into healthy / degraded / unhealthy (SPEC §11).

A component is critical (source_db, optuna_storage, report_store) or not. `unhealthy` when a critical
component is down or missing; `degraded` when any other component is not ok (or a critical one only
warns, e.g. a slow database); `healthy` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

OK, WARN, DOWN, MISSING = "ok", "warn", "down", "missing"
STATES = (OK, WARN, DOWN, MISSING)
CRITICAL_COMPONENTS = ("source_db", "optuna_storage", "report_store")
HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"


@dataclass(frozen=True)
class ComponentCheck:
    """One probe's verdict. `measurements` carries the observed numbers (latency, ages, fractions)."""

    name: str
    state: str
    detail: str
    critical: bool = False
    measurements: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"component state {self.state!r} is not one of {STATES}")


@dataclass(frozen=True)
class HealthSummary:
    status: str
    reasons: list[str]
    components: list[ComponentCheck]
    checked_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reasons": list(self.reasons),
            "checked_at": self.checked_at,
            "components": {c.name: {k: v for k, v in asdict(c).items() if k != "name"} for c in self.components},
        }


def summarize(components: Iterable[ComponentCheck], checked_at: datetime) -> HealthSummary:
    """Overall status with one reason per component that is not ok, worst first."""
    components = list(components)
    failing_critical = [c for c in components if c.critical and c.state in (DOWN, MISSING)]
    not_ok = [c for c in components if c.state != OK]
    status = UNHEALTHY if failing_critical else DEGRADED if not_ok else HEALTHY
    ordered = failing_critical + [c for c in not_ok if c not in failing_critical]
    reasons = [f"{c.name}{' (critical)' if c.critical else ''} {c.state}: {c.detail}" for c in ordered]
    return HealthSummary(status=status, reasons=reasons, components=components, checked_at=checked_at.isoformat())


def with_outage(summary: HealthSummary, name: str, note: str) -> HealthSummary:
    """The summary with component `name` marked as having been down: an answer now does not hide that
    it did not answer before this check (e.g. a server this check had to start)."""
    components = [
        ComponentCheck(
            c.name,
            WARN if c.state == OK else c.state,
            f"{note}; now: {c.detail}",
            c.critical,
            {**c.measurements, "was_down": True},
        )
        if c.name == name
        else c
        for c in summary.components
    ]
    return summarize(components, datetime.fromisoformat(summary.checked_at))


def is_transition_to_unhealthy(previous_status: str | None, current_status: str) -> bool:
    """An incident opens only when the status becomes unhealthy, not on every unhealthy tick."""
    return current_status == UNHEALTHY and previous_status != UNHEALTHY


# -- pure verdicts for measured values -----------------------------------------------------------
def age_check(
    name: str, last: Mapping[str, datetime | None], now: datetime, max_age_hours: float, what: str = "materialization"
) -> ComponentCheck:
    """Freshness of several items (asset -> last success time): warn when one is older than the
    window, missing when one never succeeded."""
    ages = {k: None if ts is None else round((now - ts).total_seconds() / 3600, 2) for k, ts in last.items()}
    if not ages:
        return ComponentCheck(name, MISSING, f"no items to check for {what}")
    never = sorted(k for k, a in ages.items() if a is None)
    stale = sorted(k for k, a in ages.items() if a is not None and a > max_age_hours)
    problems = []
    if never:
        problems.append(f"never: {', '.join(never)}")
    if stale:
        problems.append("older than " + f"{max_age_hours:g} h: " + ", ".join(f"{k} ({ages[k]:.1f} h)" for k in stale))
    measurements = {"age_hours": ages, "max_age_hours": max_age_hours}
    if problems:
        state = MISSING if never and len(never) == len(ages) else WARN
        return ComponentCheck(name, state, f"last successful {what} " + "; ".join(problems), measurements=measurements)
    oldest = max(a for a in ages.values() if a is not None)
    return ComponentCheck(
        name,
        OK,
        f"{len(ages)} item(s), oldest {what} {oldest:.1f} h ago (limit {max_age_hours:g} h)",
        measurements=measurements,
    )


def disk_check(free_fraction: Mapping[str, float], min_free_fraction: float = 0.10) -> ComponentCheck:
    """Free space per folder (fraction of its volume): warn below the minimum."""
    low = {p: f for p, f in free_fraction.items() if f < min_free_fraction}
    measurements = {"free_fraction": dict(free_fraction), "min_free_fraction": min_free_fraction}
    text = ", ".join(f"{p} {f:.1%} free" for p, f in free_fraction.items())
    if low:
        return ComponentCheck(
            "disk",
            WARN,
            f"below {min_free_fraction:.0%} free: " + ", ".join(f"{p} {f:.1%}" for p, f in low.items()),
            measurements=measurements,
        )
    return ComponentCheck("disk", OK, text, measurements=measurements)


def dq_check(bands: Mapping[str, tuple[float, str]]) -> ComponentCheck:
    """Latest DQ score and band per active project: warn when one is `poor` (SPEC §11)."""
    if not bands:
        return ComponentCheck("dq", MISSING, "no data quality scores yet (no project validated)")
    poor = sorted(p for p, (_, band) in bands.items() if band == "poor")
    scores = {p: round(float(s), 2) for p, (s, _) in bands.items()}
    mean = sum(scores.values()) / len(scores)
    measurements = {"scores": scores, "bands": {p: b for p, (_, b) in bands.items()}, "mean_score": round(mean, 2)}
    if poor:
        return ComponentCheck(
            "dq", WARN, f"band poor: {', '.join(f'{p} ({scores[p]:.1f})' for p in poor)}", measurements=measurements
        )
    return ComponentCheck(
        "dq", OK, f"{len(scores)} project(s), mean DQ {mean:.1f}, none poor", measurements=measurements
    )


def heartbeat_check(
    last_heartbeats: Mapping[str, datetime | None], now: datetime, max_age_seconds: float = 180
) -> ComponentCheck:
    """The Dagster daemon's heartbeats (daemon type -> last heartbeat time)."""
    if not last_heartbeats or all(v is None for v in last_heartbeats.values()):
        return ComponentCheck(
            "daemon",
            DOWN,
            "no dagster-daemon heartbeat recorded: start `dagster-daemon run` (or `dc-pipeline demo`, which starts it)",
        )
    ages = {k: None if v is None else round((now - v).total_seconds(), 1) for k, v in last_heartbeats.items()}
    late = sorted(k for k, a in ages.items() if a is None or a > max_age_seconds)
    measurements = {"heartbeat_age_seconds": ages, "max_age_seconds": max_age_seconds}
    if late:
        return ComponentCheck(
            "daemon",
            WARN,
            f"no heartbeat within {max_age_seconds:g} s from: {', '.join(late)}",
            measurements=measurements,
        )
    return ComponentCheck(
        "daemon",
        OK,
        f"{len(ages)} daemon(s), newest heartbeat {min(a for a in ages.values() if a is not None):.0f} s ago",
        measurements=measurements,
    )
