"""Dagster wiring. Every process that loads the code location (the code server, each run worker and step
process) imports this package first, so the warnings of the Dagster features this project uses on purpose are
silenced here, each with the reason; any other Beta or Preview warning still shows.

- `backfill_policy` (beta): project assets process up to 50 partitions per run, pairs 100 (docs/architecture.md,
  "Partitions and runs"); a run costs seconds of start-up.
- `MultiToSingleDimensionPartitionMapping` (beta): project x brand assets read their project's rows.
- api_job mixes backfill policies on purpose: each API pull fetches one project per run (multi_run(1)); the SQL
  pulls it compares with (multi_run(50)) then follow at one project per run too (defs/jobs.py).
- `owners` of SensorDefinition (beta): passed by Dagster's own run_failure_sensor, not by this project.
- `use_user_code_server` of the automation sensor (beta): its conditions wait while the demo's work plan runs
  (defs/automation.py), a condition of this project's own that only the code server can evaluate.
"""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning, message=r"Parameter `backfill_policy` of function")
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=r"Class `MultiToSingleDimensionPartitionMapping`")
warnings.filterwarnings(
    "ignore", category=dg.BetaWarning, message=r"Parameter `owners` of initializer `SensorDefinition"
)
warnings.filterwarnings("ignore", message=r"Asset job api_job materializes assets with varying BackfillPolicies")
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=r"Parameter `use_user_code_server` of initializer")
