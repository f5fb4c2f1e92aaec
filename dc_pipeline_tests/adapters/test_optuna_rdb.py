"""BatchedRDBStorage: the same stored study as Optuna's RDBStorage, in fewer statements."""

from __future__ import annotations

import optuna
import pytest
from optuna.storages import RDBStorage
from sqlalchemy import event

from dc_pipeline.adapters import optuna_storage
from dc_pipeline.adapters.optuna_rdb import BatchedRDBStorage
from dc_pipeline.domain.tuning import make_pruner, make_sampler

SEED = 7


def _objective(trial: optuna.Trial) -> float:
    """Five reported steps, so the median pruner prunes some trials (their value is the last report)."""
    x = trial.suggest_float("x", -5, 5)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    total = 0.0
    for step in range(5):
        total += (x - 1.5) ** 2 + (0.5 if kind == "b" else 0.0) + step * 0.1
        trial.report(total / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return total / 5


def _run(storage: RDBStorage, name: str) -> int:
    """Statements the study's 30 trials took on `storage`."""
    statements = []
    event.listen(storage.engine, "before_cursor_execute", lambda *args: statements.append(1))
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="minimize",
        sampler=make_sampler("TPE", SEED),
        pruner=make_pruner("median"),
    )
    study.optimize(_objective, n_trials=30)
    return len(statements)


def _stored(url: str, name: str) -> list[tuple]:
    """The study as read back by a plain RDBStorage (another process would see this)."""
    storage = RDBStorage(url)
    try:
        trials = optuna.load_study(study_name=name, storage=storage).trials
        return [(t.number, t.state, t.value, t.params, t.intermediate_values) for t in trials]
    finally:
        storage.engine.dispose()


@pytest.fixture
def url(fresh_db):
    url = optuna_storage.default_storage_url(fresh_db)
    optuna_storage.get_storage(url)  # creates the schema and Optuna's tables
    yield optuna_storage.sqlalchemy_url(url)
    optuna_storage.dispose_storages()


def test_batched_storage_stores_the_same_study_in_fewer_statements(url):
    plain, batched = RDBStorage(url), BatchedRDBStorage(url)
    try:
        plain_statements = _run(plain, "plain")
        batched_statements = _run(batched, "batched")
        read_back = batched.get_all_trials(batched.get_study_id_from_name("batched"))  # its own joined read
    finally:
        plain.engine.dispose()
        batched.engine.dispose()

    expected, stored = _stored(url, "plain"), _stored(url, "batched")
    assert stored == expected
    assert [(t.number, t.state, t.value, t.params, t.intermediate_values) for t in read_back] == stored
    pruned = [t for t in stored if t[1] == optuna.trial.TrialState.PRUNED]
    assert pruned, "the objective should prune some trials"
    assert all(value == intermediate[max(intermediate)] for _, _, value, _, intermediate in pruned)
    assert all(len(t[4]) >= 1 for t in stored)  # every trial's fold scores are stored
    assert batched_statements < 0.75 * plain_statements, (batched_statements, plain_statements)


def test_running_trial_keeps_its_reports_until_it_finishes(url):
    storage = BatchedRDBStorage(url)
    try:
        study = optuna.create_study(storage=storage, study_name="running", direction="minimize")
        trial = study.ask()
        trial.report(3.0, 0)
        trial.report(2.0, 1)
        assert storage.get_trial(trial._trial_id).intermediate_values == {0: 3.0, 1: 2.0}
        assert _stored(url, "running")[0][4] == {}  # not written yet
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        assert _stored(url, "running")[0][2:] == (2.0, {}, {0: 3.0, 1: 2.0})
    finally:
        storage.engine.dispose()
