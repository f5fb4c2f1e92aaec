"""Bookkeeping around the studies one materialization opens: how many trials it ran itself
(a resumed study already holds some) and the summary rows for asset metadata (SPEC §6d)."""

import math
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import dagster as dg
import numpy as np
import optuna
import pandas as pd

from dc_pipeline.defs.models.resources import StudyFactory
from dc_pipeline.domain.tuning import StudySummary


@dataclass
class StudyLedger:
    """Wraps a study factory; remembers each study's stored trial count when it was opened."""

    factory: StudyFactory
    opened: dict[str, int] = field(default_factory=dict)

    def __call__(self, name: str, direction: str) -> optuna.Study:
        study = self.factory(name, direction)
        self.opened.setdefault(name, len(study.get_trials(deepcopy=False)))
        return study

    def trials_run(self, summary: Optional[dict]) -> Optional[int]:
        """Trials this materialization added to the study behind `summary` (as_metadata form)."""
        if not summary or summary.get("study_name") not in self.opened:
            return None
        stored = summary["n_complete"] + summary["n_pruned"] + summary["n_failed"]
        return max(0, stored - self.opened[summary["study_name"]])


def study_row(label: str, summary: Optional[dict], ledger: StudyLedger) -> dict[str, Any]:
    """One study's metadata: the StudySummary fields (best value and parameters, n_complete,
    n_pruned, tuned-versus-default improvement, wall time, trials to within 1 %, top trials) plus
    the trials this materialization ran and the trials stored."""
    if not summary:
        return {"item": label, "study_name": None, "trials_run": 0, "trials_stored": 0, "n_pruned": 0,
                "best_value": None, "improvement_vs_default": None, "wall_seconds": 0.0, "best_params": {}}
    return {
        **summary, "item": label, "trials_run": ledger.trials_run(summary),
        "trials_stored": summary["n_complete"] + summary["n_pruned"] + summary["n_failed"],
    }


def tuning_metadata(rows: list[dict], started: float) -> dict[str, Any]:
    """Totals plus the per-study table and the full summaries as JSON; `started` is the
    materialization's perf_counter start (wall time of the whole step)."""
    tuned = [r for r in rows if r["study_name"]]
    table = pd.DataFrame(tuned, columns=["item", "trials_run", "trials_stored", "n_pruned", "best_value",
                                         "improvement_vs_default", "trials_to_within_1pct", "wall_seconds"])
    return {
        "studies": dg.MetadataValue.int(len(tuned)),
        "trials_run": dg.MetadataValue.int(int(sum(r["trials_run"] or 0 for r in tuned))),
        "tuning_wall_seconds": dg.MetadataValue.float(float(round(sum(r["wall_seconds"] for r in tuned), 3))),
        "wall_seconds": dg.MetadataValue.float(float(round(time.perf_counter() - started, 3))),
        "tuning": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".4g") if tuned else "no study run"),
        "study_summaries": dg.MetadataValue.json(json_safe({r["item"]: r for r in tuned})),
    }


def summary_dict(summary: Optional[StudySummary]) -> Optional[dict]:
    """as_metadata() plus the top-20 trials table (SPEC §6d)."""
    return None if summary is None else summary.as_metadata() | {"top_trials": summary.top_trials}


def json_safe(value: Any) -> Any:
    """Plain JSON (Postgres jsonb rejects NaN and Infinity): non-finite floats become null,
    numpy scalars Python numbers, timestamps ISO text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def json_columns(frame: pd.DataFrame, columns: list[str], empty: Any = None) -> pd.DataFrame:
    """Make the jsonb columns of a frame valid JSON; a missing cell becomes `empty` ({} or [])."""
    for column in columns:
        frame[column] = [json_safe(v) if isinstance(v, (dict, list, tuple)) else
                         (json_safe(empty) if empty is not None else None) for v in frame[column]]
    return frame
