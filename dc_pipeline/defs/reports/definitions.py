"""The reports stage: one asset per report of SPEC §7, partitioned by project."""

import dagster as dg

from dc_pipeline.defs.reports.assets import report_dc_score_performance_analysis

defs = dg.Definitions(assets=[report_dc_score_performance_analysis])
