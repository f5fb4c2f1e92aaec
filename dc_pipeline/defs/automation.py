"""When assets refresh by themselves (SPEC §6d, §11): declarative automation conditions, stated once."""

import dagster as dg

# Downstream of scores: refresh when an upstream partition changes.
ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager()

# Never score or model a partition whose validation failed a blocking check (SPEC §5).
ON_UPSTREAM_CHANGE_IF_VALID = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()

# Tuned assets re-tune weekly or when their inputs change (SPEC §6d); a rerun on unchanged data resumes the
# finished study and so reuses its best parameters.
RETUNE = dg.AutomationCondition.on_cron("0 4 * * 0") | dg.AutomationCondition.eager()
