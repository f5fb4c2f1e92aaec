"""The quality stage: validation, quarantine and DQ scores per project, with blocking checks (SPEC §5)."""

import dagster as dg

from dc_pipeline.defs.quality.assets import validate_project

defs = dg.Definitions(assets=[validate_project])
