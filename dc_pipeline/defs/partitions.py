"""Partitions (SPEC §0): dynamic projects and brands, and their product for brand-level assets."""

import dagster as dg

projects_partitions = dg.DynamicPartitionsDefinition(name="projects")
brands_partitions = dg.DynamicPartitionsDefinition(name="brands")
project_brand_partitions = dg.MultiPartitionsDefinition({"project": projects_partitions, "brand": brands_partitions})

# Brand-level assets read project-level ones through the project dimension.
project_of_pair = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="project")

# A backfill processes several projects per run: a Dagster run costs seconds of start-up.
project_backfill_policy = dg.BackfillPolicy.multi_run(max_partitions_per_run=50)
pair_backfill_policy = dg.BackfillPolicy.multi_run(max_partitions_per_run=100)
