"""Optuna operation (SPEC §6d): the trial-scoped pruner decides as the plain one and reads less."""

from __future__ import annotations

import optuna

from dc_pipeline.domain.tuning import TrialScopedPruner, TuningSettings, make_pruner, make_sampler, optimize


class CountingStorage(optuna.storages.InMemoryStorage):
    """In-memory storage that counts how often the trials of a study are read."""

    def __init__(self):
        super().__init__()
        self.reads = 0

    def get_all_trials(self, study_id, deepcopy=True, states=None):
        self.reads += 1
        return super().get_all_trials(study_id, deepcopy=deepcopy, states=states)


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -4, 4)
    y = trial.suggest_int("y", 0, 6)
    value = 0.0
    for step in range(5):  # a CV-like objective: one report per fold
        value += (x - 1) ** 2 + (y - 3) ** 2 + step * 0.1
        trial.report(value / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return value / 5


def _run(pruner: optuna.pruners.BasePruner) -> tuple[list, int]:
    storage = CountingStorage()
    study = optuna.create_study(storage=storage, sampler=make_sampler("TPE", 7), pruner=pruner, direction="minimize")
    optimize(study, _objective, TuningSettings(n_trials=40, n_jobs=1, patience=100))
    return [(t.number, t.state.name, t.value, t.params) for t in study.trials], storage.reads


def test_trial_scoped_pruner_decides_like_the_plain_pruner_with_fewer_reads():
    plain, plain_reads = _run(optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1))
    scoped, scoped_reads = _run(make_pruner("median"))
    assert isinstance(make_pruner("median"), TrialScopedPruner)
    assert scoped == plain  # same pruned trials, same values, same sampled parameters (n_jobs=1)
    assert sum(state == "PRUNED" for _, state, _, _ in scoped) > 0  # pruning did happen
    assert scoped_reads < plain_reads / 2
