"""The API stage's Dagster objects: the six pulls, their reconciliation with Postgres, the hourly schedule."""

import dagster as dg

from dc_pipeline.defs.api.assets import API_PULL_ASSETS
from dc_pipeline.defs.api.reconciliation import api_reconciliation
from dc_pipeline.defs.api.schedules import api_pull

defs = dg.Definitions(assets=[*API_PULL_ASSETS, api_reconciliation], schedules=[api_pull])
