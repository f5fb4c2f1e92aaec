"""The scoring stage: DC scores per project with their blocking identity checks (SPEC §4)."""

import dagster as dg

from dc_pipeline.defs.scoring.assets import dc_scores

defs = dg.Definitions(assets=[dc_scores])
