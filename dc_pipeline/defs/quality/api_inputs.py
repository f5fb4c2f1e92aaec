"""The API-side inputs of rules K3 and K4, read from what the api_* assets last landed.

Optional by design: the Postgres path never waits for the API. When a table is absent or holds
nothing for a project, the rule reports "API reconciliation unavailable".
"""

import pandas as pd

from dc_pipeline.adapters import postgres
from dc_pipeline.defs.io_manager import read_table
from dc_pipeline.domain.source_tables import OUTCOME_COLUMNS


def read_api_inputs(conn, project_id: int) -> dict[str, pd.DataFrame | None]:
    """{api_values, api_weights, api_outcomes} for one project; None where nothing was landed."""
    wanted = {
        "api_values": ("dc_staging.api_normalized_values", ["brand_id", "metric_id", "period", "normalized_value"]),
        "api_weights": ("dc_staging.api_weights", ["metric_id", "weight"]),
        "api_outcomes": ("dc_staging.api_brand_outcomes", ["brand_id", "period", *OUTCOME_COLUMNS]),
    }
    inputs: dict[str, pd.DataFrame | None] = {}
    for name, (table, columns) in wanted.items():
        frame = read_table(conn, table, {"project_id": [project_id]}) if postgres.table_exists(conn, table) else None
        usable = frame is not None and len(frame) and all(c in frame.columns for c in columns)
        inputs[name] = frame[columns] if usable else None
    return inputs
