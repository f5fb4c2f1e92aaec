"""When assets refresh by themselves (SPEC §6d, §11): declarative automation conditions, stated once, and the
sensor that evaluates them, running by default (turn it off in the UI: Automation ->
default_automation_condition_sensor).

What starts work: source_change_sensor requests ingest runs for new or changed projects (a membership change
counts as a change of its project); these conditions carry a changed score on to the models, the project x brand
pairs and the reports. The reference snapshot is ignored as a trigger: it is one table for all projects, so its
refresh (a new brand, a renamed category) would otherwise re-tune every model of every project; its changes that
matter to a project already arrive as that project's ingest run.

While `dc-pipeline demo` runs its work plan (defs/plan_gate.py) every condition is held back, as the other
sensors are: the plan materializes everything itself. What changed meanwhile is remembered (each condition's
`since_last_handled`), so what the plan did not do is requested afterwards.
"""

import dagster as dg

from dc_pipeline.defs.plan_gate import plan_in_progress

_REFERENCE = dg.AssetSelection.assets("reference_snapshot")


class _NoPlanRunning(dg.AutomationCondition):
    """True for every candidate unless a demo work plan is running. Evaluated in the code server (the sensor's
    use_user_code_server), where the plan marker of the demo's environment is visible."""

    @property
    def description(self) -> str:
        return "no dc-pipeline demo work plan running"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        idle = plan_in_progress() is None
        return dg.AutomationResult(context, context.candidate_subset if idle else context.get_empty_subset())


def _held_during_plan(condition: dg.AutomationCondition) -> dg.AutomationCondition:
    # Last operand: the inner conditions still see every tick, so their memory of changes stays whole.
    return condition & _NoPlanRunning()


# Downstream of scores: refresh when an upstream partition changes, and run new partitions (a new brand's pairs,
# members or not, so that none shows as missing work) once their inputs exist.
ON_UPSTREAM_CHANGE = _held_during_plan(dg.AutomationCondition.eager().ignore(_REFERENCE))

# Never score or model a partition whose validation failed a blocking check (SPEC §5).
ON_UPSTREAM_CHANGE_IF_VALID = _held_during_plan(
    dg.AutomationCondition.eager() & dg.AutomationCondition.all_deps_blocking_checks_passed()
)

# Tuned assets re-tune weekly or when their inputs change (SPEC §6d); a rerun on unchanged data resumes the
# finished study and so reuses its best parameters.
RETUNE = _held_during_plan(
    (dg.AutomationCondition.on_cron("0 4 * * 0") | dg.AutomationCondition.eager()).ignore(_REFERENCE)
)

# Project assets that also read brand-level (project x brand) outputs: the project's slice of the brand
# dimension includes brands that are not members, so "missing" looks only at the project-level deps; an update
# of any pair still triggers.
_PAIR_ASSETS = dg.AssetSelection.assets("brand_forecasts", "brand_recommendations")
ON_UPSTREAM_CHANGE_WITH_PAIRS = _held_during_plan(
    dg.AutomationCondition.eager()
    .ignore(_REFERENCE)
    .replace("any_deps_missing", dg.AutomationCondition.any_deps_missing().ignore(_PAIR_ASSETS))
)

# Unpartitioned assets over every project: refresh when any project's input changes; a project that never
# scored (failed validation) does not hold the others back.
ON_ANY_UPSTREAM_CHANGE = _held_during_plan(
    (
        dg.AutomationCondition.any_deps_updated().ignore(_REFERENCE).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("any upstream change")
)

automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,  # an evaluation over every partition costs seconds of CPU on a small machine
    use_user_code_server=True,  # for _NoPlanRunning (a condition of this project's own)
    description="Evaluates the automation conditions of every asset (defs/automation.py): models, project x brand "
    "pairs and reports follow a changed score. Stop it here to refresh only by hand.",
)
