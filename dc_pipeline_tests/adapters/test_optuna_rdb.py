"""BatchedRDBStorage: the same stored study as Optuna's RDBStorage, in fewer statements."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.storages import RDBStorage
from sqlalchemy import event

from dc_pipeline.adapters import optuna_storage
from dc_pipeline.adapters.optuna_rdb import FRESH_S, BatchedRDBStorage
from dc_pipeline.domain.tuning import make_pruner, make_sampler

SEED = 7


def _objective(trial: optuna.Trial) -> float:
    """Five reported steps, so the median pruner prunes some trials (their value is the last report)."""
    x = trial.suggest_float("x", -5, 5)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if kind == "b":  # a parameter only some trials have, as the assets' model families do
        trial.suggest_int("depth", 1, 4)
        trial.set_user_attr("note", {"kind": kind, "x": round(x, 3)})
    trial.set_system_attr("seen", trial.number)
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
    study.enqueue_trial({"x": 1.0, "kind": "a"})  # a waiting trial popped by the worker, as the assets' defaults
    study.optimize(_objective, n_trials=30)
    return len(statements)


def _row(t: optuna.trial.FrozenTrial) -> tuple:
    return (t.number, t.state, t.value, t.params, t.intermediate_values, t.distributions, t.user_attrs, t.system_attrs)


def _stored(url: str, name: str) -> list[tuple]:
    """The study as read back by a plain RDBStorage (another process would see this)."""
    storage = RDBStorage(url)
    try:
        trials = optuna.load_study(study_name=name, storage=storage).trials
        return [_row(t) for t in trials]
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
    assert [_row(t) for t in read_back] == stored
    pruned = [t for t in stored if t[1] == optuna.trial.TrialState.PRUNED]
    assert pruned, "the objective should prune some trials"
    assert all(value == intermediate[max(intermediate)] for _, _, value, _, intermediate, *_ in pruned)
    assert all(len(t[4]) >= 1 for t in stored)  # every trial's fold scores are stored
    assert any(t[6] for t in stored) and any("depth" in t[3] for t in stored)
    assert batched_statements < 0.3 * plain_statements, (batched_statements, plain_statements)


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
        assert _stored(url, "running")[0][2:5] == (2.0, {}, {0: 3.0, 1: 2.0})
    finally:
        storage.engine.dispose()


def test_running_trial_writes_params_and_user_attrs_when_it_finishes(url):
    storage = BatchedRDBStorage(url)
    try:
        study = optuna.create_study(storage=storage, study_name="params", direction="minimize")
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        trial.set_user_attr("fold", "a")
        assert storage.get_trial(trial._trial_id).params == {"x": x}
        assert study.trials[0].user_attrs == {"fold": "a"}  # this process's reads see the running trial
        assert _stored(url, "params")[0][3] == {} and _stored(url, "params")[0][6] == {}  # not written yet
        study.tell(trial, 0.5)
        assert _stored(url, "params")[0][1:4] == (optuna.trial.TrialState.COMPLETE, 0.5, {"x": x})
        assert _stored(url, "params")[0][6] == {"fold": "a"}
    finally:
        storage.engine.dispose()


def test_incompatible_distribution_still_raises(url):
    """A parameter stored by another worker with another distribution is refused, as Optuna refuses it."""
    other = RDBStorage(url)
    storage = BatchedRDBStorage(url)
    try:
        optuna.create_study(storage=other, study_name="dists").optimize(lambda t: t.suggest_float("x", 0, 1), 1)
        study = optuna.load_study(study_name="dists", storage=storage)
        trial = study.ask()
        trial.suggest_int("depth", 1, 3)  # unknown to the study: re-read once, then kept
        other_trial = optuna.load_study(study_name="dists", storage=other).ask()
        other_trial.suggest_categorical("kind", ["a", "b"])  # stored by the other worker meanwhile
        with pytest.raises(ValueError, match="Cannot set different distribution kind"):
            trial.suggest_int("x", 0, 1)
        fresh = study.ask()
        with pytest.raises(ValueError):
            fresh.suggest_float("kind", 0, 1)  # a new trial re-reads once for a name it has not seen
    finally:
        other.engine.dispose()
        storage.engine.dispose()


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning", "ignore:Heartbeat of storage")
def test_trial_of_a_dead_worker_is_failed_and_retried(url):
    """A worker that dies mid-trial leaves a RUNNING trial with none of its parameters stored; once its
    heartbeat is older than the grace period, the next worker fails it and runs a retry."""
    dead = BatchedRDBStorage(url, heartbeat_interval=1, grace_period=1)
    study = optuna.create_study(storage=dead, study_name="dead", direction="minimize")
    trial = study.ask()
    trial.suggest_float("x", -5, 5)
    trial.report(1.0, 0)
    dead.record_heartbeat(trial._trial_id)
    dead.engine.dispose()  # the worker dies: nothing more from it
    time.sleep(2.5)
    live = optuna_storage.get_storage(url, heartbeat_interval=1, grace_period=1)
    resumed = optuna.load_study(study_name="dead", storage=live)
    resumed.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=1)
    trials = _stored(url, "dead")
    assert trials[0][1] == optuna.trial.TrialState.FAIL and trials[0][3] == {} and trials[0][4] == {}
    assert [t[1] for t in trials[1:]] == [optuna.trial.TrialState.COMPLETE]
    assert trials[1][7]["failed_trial"] == trials[0][0] and "x" in trials[1][3]  # sampled anew


def test_reads_see_this_process_at_once_and_other_workers_within_the_fresh_window(url):
    storage, other = BatchedRDBStorage(url), BatchedRDBStorage(url)
    try:
        study = optuna.create_study(storage=storage, study_name="fresh")
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
        assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE]  # its own finish, at once
        optuna.load_study(study_name="fresh", storage=other).optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
        time.sleep(FRESH_S)
        assert [t.number for t in study.trials] == [0, 1]  # the other worker's, one window later at most
    finally:
        storage.engine.dispose()
        other.engine.dispose()
