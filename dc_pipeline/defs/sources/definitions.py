"""The sources stage: the Digi-Cadence tables as external assets, the reference snapshot, the per-project SQL
pulls, and the sensor that notices new and changed projects (SPEC §0, §11)."""

import dagster as dg

from dc_pipeline.defs.sources.assets import (
    reference_snapshot,
    source_tables,
    src_business_outcomes,
    src_metrics,
    src_normalised_values,
)
from dc_pipeline.defs.sources.sensors import source_change_sensor

defs = dg.Definitions(
    assets=[*source_tables, reference_snapshot, src_metrics, src_normalised_values, src_business_outcomes],
    sensors=[source_change_sensor],
)
