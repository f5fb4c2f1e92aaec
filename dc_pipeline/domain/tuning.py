"""Optuna operation shared by every tuned model (SPEC §6d): sampler, pruner, budget, summary.

Pure computation: the caller hands in a `optuna.Study` whose storage it chose (in-memory in
unit tests, Postgres RDB storage in Dagster). Nothing here opens a connection.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from dc_pipeline.domain.tuning_settings import PrunerName, SamplerName, TuningSettings, study_name, study_seed

__all__ = ["PrunerName", "SamplerName", "TuningSettings", "study_name", "study_seed"]


def resolve_sampler_name(name: SamplerName, n_brands: int, n_metrics: int) -> str:
    if name != "AUTO":
        return name
    if n_brands >= 5 and n_metrics >= 20:
        return "CMAES"
    if n_brands >= 3 and n_metrics >= 10:
        return "TPE"
    return "RANDOM"


def make_sampler(name: SamplerName, seed: int, n_brands: int = 0, n_metrics: int = 0) -> optuna.samplers.BaseSampler:
    resolved = resolve_sampler_name(name, n_brands, n_metrics)
    if resolved == "TPE":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=10)
    if resolved == "CMAES":
        return optuna.samplers.CmaEsSampler(
            seed=seed, independent_sampler=optuna.samplers.TPESampler(seed=seed), warn_independent_sampling=False
        )
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(name: PrunerName) -> optuna.pruners.BasePruner:
    if name == "median":
        return TrialScopedPruner(optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    if name == "successive_halving":
        return TrialScopedPruner(optuna.pruners.SuccessiveHalvingPruner())
    return optuna.pruners.NopPruner()


class _TrialsOfThisTrial:
    """The study as a pruner sees it, with `get_trials` answered from the trials Optuna read for
    the running trial (its sampler fills that per-trial cache; the first call fills it otherwise)."""

    def __init__(self, study: optuna.Study):
        self._study = study

    def get_trials(self, deepcopy: bool = True, states=None) -> list[optuna.trial.FrozenTrial]:
        return self._study._get_trials(deepcopy=deepcopy, states=states, use_cache=True)

    def __getattr__(self, name: str):
        return getattr(self._study, name)


class TrialScopedPruner(optuna.pruners.BasePruner):
    """A pruner that reads the study's other trials once per trial instead of once per reported
    step. With RDB storage each read is a round of queries (trials, params, values, attributes,
    intermediate values), so the plain pruners cost ~8 queries per fold. It judges against the
    trials as they were when this trial started; with one worker nothing else finishes meanwhile,
    so the decisions, and the results with n_jobs=1, are the same."""

    def __init__(self, pruner: optuna.pruners.BasePruner):
        self.pruner = pruner

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.pruner.prune(_TrialsOfThisTrial(study), trial)


class _Patience:
    """Stops the study after `patience` finished trials without a new best value."""

    def __init__(self, patience: int):
        self.patience = patience

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        finished = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        complete = [t for t in finished if t.value is not None]
        if len(complete) <= self.patience:
            return
        sign = 1 if study.direction == optuna.study.StudyDirection.MINIMIZE else -1
        best_number = min(complete, key=lambda t: sign * t.value).number
        since_best = sum(1 for t in complete if t.number > best_number)
        if since_best >= self.patience:
            study.stop()


@dataclass
class StudySummary:
    study_name: str
    best_value: float | None
    best_params: dict[str, Any]
    n_complete: int
    n_pruned: int
    n_failed: int
    wall_seconds: float
    trials_to_within_1pct: int | None
    default_value: float | None = None
    top_trials: list[dict[str, Any]] = field(default_factory=list)
    minimize: bool = True

    @property
    def improvement_vs_default(self) -> float | None:
        """Relative improvement of the best trial over the default-parameter trial (positive = better)."""
        if self.default_value is None or self.best_value is None or self.default_value == 0:
            return None
        gain = self.default_value - self.best_value if self.minimize else self.best_value - self.default_value
        return gain / abs(self.default_value)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "study_name": self.study_name,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "n_complete": self.n_complete,
            "n_pruned": self.n_pruned,
            "n_failed": self.n_failed,
            "wall_seconds": round(self.wall_seconds, 3),
            "trials_to_within_1pct": self.trials_to_within_1pct,
            "default_value": self.default_value,
            "improvement_vs_default": self.improvement_vs_default,
        }


def summarize_study(study: optuna.Study, wall_seconds: float, default_value: float | None = None) -> StudySummary:
    trials = study.trials
    complete = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    minimize = study.direction == optuna.study.StudyDirection.MINIMIZE
    best = (min if minimize else max)(complete, key=lambda t: t.value) if complete else None
    within = None
    if best is not None:
        tol = abs(best.value) * 0.01
        for t in sorted(complete, key=lambda t: t.number):
            if (t.value <= best.value + tol) if minimize else (t.value >= best.value - tol):
                within = t.number + 1
                break
    ordered = sorted(complete, key=lambda t: t.value, reverse=not minimize)[:20]
    return StudySummary(
        study_name=study.study_name,
        best_value=None if best is None else float(best.value),
        best_params={} if best is None else dict(best.params),
        n_complete=len(complete),
        n_pruned=sum(1 for t in trials if t.state == optuna.trial.TrialState.PRUNED),
        n_failed=sum(1 for t in trials if t.state == optuna.trial.TrialState.FAIL),
        wall_seconds=wall_seconds,
        trials_to_within_1pct=within,
        default_value=default_value,
        top_trials=[{"number": t.number, "value": float(t.value), **t.params} for t in ordered],
        minimize=minimize,
    )


def optimize(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    settings: TuningSettings,
    default_params: dict[str, Any] | None = None,
    default_value: float | None = None,
) -> StudySummary:
    """Run the study within the budget (n_trials counts trials already stored, so a resumed
    study only runs what is left) and summarise it.

    `default_params`, when given and not yet tried, is enqueued first so that the tuned-versus-
    default improvement is measured on the same objective.
    """
    started = time.perf_counter()
    done = sum(1 for t in study.trials if t.state.is_finished())
    if default_params is not None and done == 0:
        study.enqueue_trial(default_params, skip_if_exists=True)
    remaining = max(0, settings.n_trials - done)
    if remaining:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=settings.timeout_s,
            n_jobs=settings.resolved_n_jobs(),
            callbacks=[_Patience(settings.patience)],
            gc_after_trial=False,
            show_progress_bar=False,
        )
    if default_value is None and default_params is not None:
        for t in study.trials:
            if t.state == optuna.trial.TrialState.COMPLETE and t.params == default_params:
                default_value = float(t.value)
                break
    return summarize_study(study, time.perf_counter() - started, default_value)


def in_memory_study(
    name: str, direction: str, settings: TuningSettings, n_brands: int = 0, n_metrics: int = 0
) -> optuna.Study:
    """A study with no storage, for unit tests and one-off runs."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        study_name=name,
        direction=direction,
        sampler=make_sampler(settings.sampler, study_seed(name), n_brands, n_metrics),
        pruner=make_pruner(settings.pruner),
    )
