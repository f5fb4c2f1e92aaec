"""Optuna RDB storage in Postgres (SPEC §6d): interrupted studies resume, workers share trials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy

from dc_pipeline.adapters import optuna_storage
from dc_pipeline.domain.tuning import TuningSettings, make_pruner, make_sampler, optimize, study_seed

ROOT = Path(__file__).resolve().parents[2]


def _open(url: str, name: str) -> optuna.Study:
    storage = optuna_storage.get_storage(optuna_storage.default_storage_url(url))
    return optuna_storage.open_study(
        storage, name, "minimize", make_sampler("TPE", study_seed(name)), make_pruner("median")
    )


def _quadratic(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    return (x - 1.5) ** 2


def test_default_storage_url_sets_search_path():
    url = optuna_storage.default_storage_url("postgresql://dc:pw@db:5432/digi_cadence?sslmode=prefer")
    assert url.endswith("sslmode=prefer&options=-csearch_path%3Doptuna")
    assert optuna_storage.sqlalchemy_url(url).startswith("postgresql+psycopg://dc:pw@db:5432/")
    assert "options" not in optuna_storage.libpq_url(url)


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar()


def test_idle_pooled_connection_is_checked_and_replaced_when_dead(fresh_db):
    from dc_pipeline.adapters import postgres

    busy = sqlalchemy.create_engine(optuna_storage.sqlalchemy_url(fresh_db))
    optuna_storage.ping_when_idle(busy, idle_s=3600)  # just used: no check, the same connection
    assert _backend_pid(busy) == _backend_pid(busy)

    idle = sqlalchemy.create_engine(optuna_storage.sqlalchemy_url(fresh_db))
    optuna_storage.ping_when_idle(idle, idle_s=0.0)  # every checkout counts as after a long idle
    dead = _backend_pid(idle)
    with postgres.connect(fresh_db, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [dead])
    assert _backend_pid(idle) != dead  # the killed connection was found out and replaced, no error
    busy.dispose()
    idle.dispose()


def test_interrupted_study_resumes_from_stored_trials(fresh_db):
    name = "test_kind|p1|all|revenue|abc123"
    budget = TuningSettings(n_trials=8, timeout_s=60, n_jobs=1)
    calls = {"n": 0}

    def crashing(trial: optuna.Trial) -> float:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the worker is stopped in the middle of its 4th trial
        return _quadratic(trial)

    with pytest.raises(KeyboardInterrupt):
        optimize(_open(fresh_db, name), crashing, budget)
    optuna_storage.dispose_storages()  # a new process: nothing survives but the database

    storage = optuna_storage.get_storage(optuna_storage.default_storage_url(fresh_db))
    before = optuna_storage.study_trial_counts(storage, name)
    assert before == {"COMPLETE": 3, "FAIL": 1}
    stored_x = [t.params["x"] for t in _open(fresh_db, name).trials[:3]]

    summary = optimize(_open(fresh_db, name), _quadratic, budget)
    trials = _open(fresh_db, name).trials
    assert [t.number for t in trials] == list(range(8))  # numbering continues after the stored trials
    assert sum(t.state.is_finished() for t in trials) == budget.n_trials  # only the remainder ran
    assert [t.params["x"] for t in trials[:3]] == stored_x
    assert summary.n_complete == 7 and summary.n_failed == 1
    assert summary.best_value == min(t.value for t in trials if t.value is not None)


def _worker(url: str, name: str, n_trials: int, sync_dir: str, tag: str) -> None:
    """One tuning process: waits for its peer, then runs n_trials on the shared study."""
    Path(sync_dir, tag).touch()
    deadline = time.time() + 60
    while len(list(Path(sync_dir).iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.02)
    study = _open(url, name)

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", tag)
        others = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("worker") not in (None, tag)]
        trial.set_user_attr("foreign_seen", len(others))
        time.sleep(0.15)
        return _quadratic(trial)

    study.optimize(objective, n_trials=n_trials)
    print(json.dumps({"tag": tag, "trials_seen": len(study.trials)}))


def test_two_processes_share_one_study(fresh_db, tmp_path):
    name = "test_kind|p1|all|shared|def456"
    _open(fresh_db, name)  # tables and study exist before the workers race to them
    sync = tmp_path / "sync"
    sync.mkdir()
    per_worker = 6
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from dc_pipeline_tests.adapters.test_optuna_storage import _worker; "
                f"_worker({fresh_db!r}, {name!r}, {per_worker}, {str(sync)!r}, {tag!r})",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("A", "B")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]

    trials = _open(fresh_db, name).trials
    assert len(trials) == 2 * per_worker
    assert sorted(t.number for t in trials) == list(range(2 * per_worker))
    by_worker = {tag: [t for t in trials if t.user_attrs["worker"] == tag] for tag in ("A", "B")}
    assert all(len(v) == per_worker for v in by_worker.values())
    # Each worker saw trials of the other while running: one study, not two copies.
    assert all(max(t.user_attrs["foreign_seen"] for t in v) > 0 for v in by_worker.values())
    finals = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert min(f["trials_seen"] for f in finals) > per_worker
    assert max(f["trials_seen"] for f in finals) == 2 * per_worker


def _open_storage_at(url: str, start: float) -> None:
    time.sleep(max(0.0, start - time.time()))  # every worker opens the storage at the same instant
    optuna_storage.get_storage(optuna_storage.default_storage_url(url))


def test_workers_opening_a_fresh_database_at_once_all_get_the_storage(fresh_db):
    """The demo's two runs opened the storage of a fresh database together and one failed creating Optuna's tables
    (UniqueViolation on type studydirection): creation is serialised, every worker succeeds."""
    import multiprocessing

    optuna_storage.dispose_storages()  # no engine inherited over fork
    start = time.time() + 1.0
    workers = [
        multiprocessing.get_context("fork").Process(target=_open_storage_at, args=(fresh_db, start)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    study = _open(fresh_db, "after_concurrent_creation")
    assert study.study_name == "after_concurrent_creation"
