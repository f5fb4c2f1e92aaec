"""The SPEC §5 rule table: id -> dimension, severity, what a test unit is, whether it quarantines."""

from __future__ import annotations

from dataclasses import dataclass

DIMENSIONS: tuple[str, ...] = ("completeness", "validity", "uniqueness", "timeliness", "consistency", "volume")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    dimension: str
    severity: str  # 'ERROR' | 'WARN'
    unit: str  # noun used in messages, plural
    quarantines: bool = False
    blocking: bool = False


_RULES = (
    Rule("C1", "completeness", "WARN", "expected cells"),
    Rule("C2", "completeness", "WARN", "required outcome cells"),
    Rule("V1", "validity", "ERROR", "rows", quarantines=True, blocking=True),
    Rule("V2", "validity", "ERROR", "rows", quarantines=True, blocking=True),
    Rule("V3", "validity", "ERROR", "rows", quarantines=True),
    Rule("V4", "validity", "ERROR", "metric definitions", quarantines=True),
    Rule("V5", "validity", "WARN", "outcome cells", quarantines=True),
    Rule("U1", "uniqueness", "ERROR", "keys", quarantines=True, blocking=True),
    Rule("U2", "uniqueness", "ERROR", "metric definition keys", quarantines=True),
    Rule("T1", "timeliness", "WARN", "brand series"),
    Rule("T2", "timeliness", "WARN", "projects"),
    Rule("K1", "consistency", "WARN", "rows"),
    Rule("K2", "consistency", "WARN", "period-on-period changes"),
    Rule("K3", "consistency", "WARN", "keys"),
    Rule("K4", "consistency", "WARN", "metric checks"),
    Rule("K5", "consistency", "WARN", "project-periods"),
    Rule("W1", "volume", "WARN", "projects"),
    Rule("W2", "volume", "WARN", "brand-periods"),
)
RULES: dict[str, Rule] = {rule.rule_id: rule for rule in _RULES}
RULE_ORDER: tuple[str, ...] = tuple(RULES)

# A value row failing several quarantine rules is quarantined once, under the first of these.
VALUE_QUARANTINE_ORDER: tuple[str, ...] = ("V1", "V2", "V3", "V4", "U2", "U1")

RULE_RESULT_COLUMNS = ("rule_id", "dimension", "severity", "brand_id", "units", "passed", "failed", "message")
QUARANTINE_COLUMNS = ("source_table", "rule_id", "severity", "reason", "row_key", "row_payload")
