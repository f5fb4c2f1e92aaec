"""The project's code location without its sensors and schedules, for the killed-worker case: the run under
test is the only work `dagster dev` does."""

import dagster as dg

from dc_pipeline.definitions import build_definitions


def _without_instigators(project: dg.Definitions) -> dg.Definitions:
    return dg.Definitions(
        assets=project.assets,
        asset_checks=project.asset_checks,
        jobs=project.jobs,
        resources=project.resources,
        executor=project.executor,
    )


defs = _without_instigators(build_definitions())
