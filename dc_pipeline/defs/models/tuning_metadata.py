"""Asset metadata of the studies one materialization ran (SPEC §6d): totals and the per-study table."""

import time
from typing import Any

import dagster as dg
import pandas as pd

from dc_pipeline.domain.json_values import to_jsonable

STUDY_TABLE_COLUMNS = ["item", "trials_run", "trials_stored", "n_pruned", "best_value", "improvement_vs_default",
                       "trials_to_within_1pct", "wall_seconds"]  # fmt: skip


def tuning_metadata(rows: list[dict], started: float) -> dict[str, Any]:
    """`rows` from domain.study_ledger.study_row; `started` is the step's perf_counter start."""
    tuned = [r for r in rows if r["study_name"]]
    table = pd.DataFrame(tuned, columns=STUDY_TABLE_COLUMNS)
    return {
        "studies": dg.MetadataValue.int(len(tuned)),
        "trials_run": dg.MetadataValue.int(int(sum(r["trials_run"] or 0 for r in tuned))),
        "tuning_wall_seconds": dg.MetadataValue.float(float(round(sum(r["wall_seconds"] for r in tuned), 3))),
        "wall_seconds": dg.MetadataValue.float(float(round(time.perf_counter() - started, 3))),
        "tuning": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".4g") if tuned else "no study run"),
        "study_summaries": dg.MetadataValue.json(to_jsonable({r["item"]: r for r in tuned})),
    }
