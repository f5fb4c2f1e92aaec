"""When assets refresh by themselves (SPEC §6d, §11): declarative automation conditions, stated once, and the
sensor that evaluates them, running by default (turn it off in the UI: Automation ->
default_automation_condition_sensor).

What starts work: source_change_sensor requests ingest runs for new or changed projects (a membership change
counts as a change of its project); these conditions carry a changed score on to the models, the project x brand
pairs and the reports. The reference snapshot is ignored as a trigger: it is one table for all projects, so its
refresh (a new brand, a renamed category) would otherwise re-tune every model of every project; its changes that
matter to a project already arrive as that project's ingest run.
"""

import dagster as dg

_REFERENCE = dg.AssetSelection.assets("reference_snapshot")

# Downstream of scores: refresh when an upstream partition changes, and run new partitions (a new brand's pairs,
# members or not, so that none shows as missing work) once their inputs exist.
ON_UPSTREAM_CHANGE = dg.AutomationCondition.eager().ignore(_REFERENCE)

# Never score or model a partition whose validation failed a blocking check (SPEC §5).
ON_UPSTREAM_CHANGE_IF_VALID = dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()

# Tuned assets re-tune weekly or when their inputs change (SPEC §6d); a rerun on unchanged data resumes the
# finished study and so reuses its best parameters.
RETUNE = (dg.AutomationCondition.on_cron("0 4 * * 0") | dg.AutomationCondition.eager()).ignore(_REFERENCE)

automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,  # an evaluation over every partition costs seconds of CPU on a small machine
    description="Evaluates the automation conditions of every asset (defs/automation.py): models, project x brand "
    "pairs and reports follow a changed score. Stop it here to refresh only by hand.",
)
