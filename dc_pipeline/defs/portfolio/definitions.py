"""The portfolio stage (SPEC §8): portfolio_analysis per project, cross_project_evolution over all projects."""

import dagster as dg

from dc_pipeline.defs.portfolio.assets import cross_project_evolution, portfolio_analysis

defs = dg.Definitions(assets=[portfolio_analysis, cross_project_evolution])
