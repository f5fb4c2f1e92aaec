"""Optuna studies stored in the project's Postgres, schema `optuna` (SPEC §6d).

One RDBStorage per URL and process: studies are created with load_if_exists=True, so a retried
run resumes from its stored trials and several workers (threads or processes) share one study.
Heartbeats mark trials of a dead worker as failed after the grace period; failed trials are
retried up to twice (RetryHeartbeatStaleTrialCallback, formerly RetryFailedTrialCallback).

Optuna opens a session, so checks out a pooled connection, for every storage call (~75 statements a
trial); BatchedRDBStorage (optuna_rdb.py) keeps a running trial in its process and writes it in one
transaction when it finishes (~15 statements a trial, bench/bench_optuna_storage.py).
A pooled connection is tested before use only when it has been idle for IDLE_PING_S: a ping
per checkout (pool_pre_ping) doubled the round trips of a trial, and each round trip waits for a
Postgres backend to be scheduled, which is what slows parallel workers on a busy machine.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import optuna
from optuna.storages import RDBStorage

try:  # Optuna >= 4.9 renamed the callback that retries trials of dead workers
    from optuna.storages import RetryHeartbeatStaleTrialCallback as _RetryCallback

    _CALLBACK_ARG = "heartbeat_stale_trial_callback"
except ImportError:  # pragma: no cover - older Optuna
    from optuna.storages import RetryFailedTrialCallback as _RetryCallback

    _CALLBACK_ARG = "failed_trial_callback"

from dc_pipeline.adapters import postgres
from dc_pipeline.adapters.optuna_rdb import BatchedRDBStorage
from dc_pipeline.adapters.sql_pool import IDLE_PING_S, ping_when_idle  # noqa: F401 (IDLE_PING_S: the docstring's)

OPTUNA_SCHEMA = "optuna"
HEARTBEAT_INTERVAL_S = 60
GRACE_PERIOD_S = 180
MAX_RETRY = 2
_DDL_LOCK = "dc_pipeline.ddl:optuna"

_storages: dict[tuple, RDBStorage] = {}
_lock = threading.Lock()


def default_storage_url(database_url: str) -> str:
    """DATABASE_URL with `options=-csearch_path=optuna`, so Optuna's tables live in schema optuna."""
    parts = urlsplit(database_url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={OPTUNA_SCHEMA}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy form of a libpq URL, on the psycopg 3 driver the pipeline already uses."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """The plain libpq URL (no SQLAlchemy driver suffix, no search_path option) for DDL."""
    parts = urlsplit(url)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(query)))


def ensure_optuna_schema(url: str) -> None:
    """Optuna creates its tables but not the schema its search_path names."""
    with postgres.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {OPTUNA_SCHEMA}")


@contextmanager
def _schema_lock(url: str) -> Iterator[None]:
    """Held while the schema and Optuna's tables are created. Two workers opening the storage of a fresh database
    at once (the demo's two runs) both found the tables missing, and one failed on Postgres' catalog index
    (UniqueViolation on type studydirection). A session lock, since RDBStorage runs its DDL on its own engine."""
    with postgres.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (_DDL_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (_DDL_LOCK,))


def get_storage(
    url: str,
    *,
    heartbeat_interval: int | None = HEARTBEAT_INTERVAL_S,
    grace_period: int | None = GRACE_PERIOD_S,
    max_retry: int = MAX_RETRY,
) -> RDBStorage:
    """The process-wide RDBStorage for `url` (an engine and a connection pool per URL)."""
    key = (url, heartbeat_interval, grace_period, max_retry)
    with _lock:
        storage = _storages.get(key)
        if storage is None:
            with _schema_lock(url), warnings.catch_warnings():
                # heartbeats are flagged experimental; SPEC §6d relies on them
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                callback = {_CALLBACK_ARG: _RetryCallback(max_retry=max_retry)} if heartbeat_interval else {}
                ensure_optuna_schema(url)
                storage = BatchedRDBStorage(
                    sqlalchemy_url(url),
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    **callback,
                )
            ping_when_idle(storage.engine)
            _storages[key] = storage
        return storage


def dispose_storages() -> None:
    """Close every cached engine (tests, and before forking worker processes)."""
    with _lock:
        for storage in _storages.values():
            storage.engine.dispose()
        _storages.clear()


def open_study(
    storage: RDBStorage,
    name: str,
    direction: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Create the study, or load it with its stored trials when it exists (resume / share)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=storage, study_name=name, direction=direction, sampler=sampler, pruner=pruner, load_if_exists=True
    )


def study_trial_counts(storage: RDBStorage, name: str) -> dict[str, int]:
    """Stored trials of a study by state name (COMPLETE, PRUNED, FAIL, RUNNING, WAITING)."""
    study_id = storage.get_study_id_from_name(name)
    counts: dict[str, int] = {}
    for trial in storage.get_all_trials(study_id, deepcopy=False):
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts


def count_studies(storage: RDBStorage) -> int:
    return len(storage.get_all_studies())
