"""The models stage's Dagster objects (assets, checks, jobs, sensors, schedules), merged by
dc_pipeline/definitions.py. Resources this stage needs are returned by extra_resources()."""

import dagster as dg

defs = dg.Definitions()


def extra_resources(database) -> dict:
    """`database` is the shared PostgresResource bound as source_db and pipeline_db."""
    return {}
