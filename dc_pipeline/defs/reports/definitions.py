"""The reports stage: one asset per report of SPEC §7 (partitioned by project) and the ad-hoc job."""

import dagster as dg

from dc_pipeline.defs.reports.adhoc import adhoc_report_job
from dc_pipeline.defs.reports.assets import report_assets

defs = dg.Definitions(assets=report_assets(), jobs=[adhoc_report_job])
