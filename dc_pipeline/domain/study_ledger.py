"""Bookkeeping around the studies one materialization opens (SPEC §6d): how many trials it ran itself (a
resumed study already holds some) and one summary row per study for the asset metadata."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dc_pipeline.domain.tuning import StudySummary


@dataclass
class StudyLedger:
    """Wraps a study factory; remembers each study's stored trial count when it was opened."""

    factory: Callable
    opened: dict[str, int] = field(default_factory=dict)

    def __call__(self, name: str, direction: str):
        study = self.factory(name, direction)
        self.opened.setdefault(name, len(study.get_trials(deepcopy=False)))
        return study

    def with_factory(self, factory: Callable) -> StudyLedger:
        """This ledger, opening studies with `factory` from now on (its sampler may depend on the problem size)."""
        self.factory = factory
        return self

    def trials_run(self, summary: dict | None) -> int | None:
        """Trials this materialization added to the study behind `summary` (as_metadata form)."""
        if not summary or summary.get("study_name") not in self.opened:
            return None
        stored = summary["n_complete"] + summary["n_pruned"] + summary["n_failed"]
        return max(0, stored - self.opened[summary["study_name"]])


def summary_dict(summary: StudySummary | None) -> dict | None:
    """as_metadata() plus the top-20 trials table (SPEC §6d)."""
    return None if summary is None else summary.as_metadata() | {"top_trials": summary.top_trials}


def study_row(label: str, summary: dict | None, ledger: StudyLedger) -> dict[str, Any]:
    """One study's metadata: the StudySummary fields (best value and parameters, n_complete, n_pruned,
    tuned-versus-default improvement, wall time, trials to within 1 %, top trials) plus the trials this
    materialization ran and the trials stored."""
    if not summary:
        return {"item": label, "study_name": None, "trials_run": 0, "trials_stored": 0, "n_pruned": 0,
                "best_value": None, "improvement_vs_default": None, "wall_seconds": 0.0, "best_params": {}}  # fmt: skip
    return {
        **summary,
        "item": label,
        "trials_run": ledger.trials_run(summary),
        "trials_stored": summary["n_complete"] + summary["n_pruned"] + summary["n_failed"],
    }
