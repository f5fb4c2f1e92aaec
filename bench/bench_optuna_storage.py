"""Benchmark: Optuna storage round trips per trial for the three kinds of study the assets run.

    python bench/bench_optuna_storage.py [--studies 6] [--dsn URL]

Each kind of study is run as its asset runs it (`domain.tuning.optimize`, TPE sampler seeded by the study
name, median pruner, the default parameters enqueued, n_jobs 1) with the asset's own parameter space
(`suggest_spec`, `suggest_config`, `suggest_values`) and reports (forecast: one per backtest origin,
MAX_ORIGINS; outcome model: one per CV fold, 5; GA: one per hypervolume checkpoint, N_CHECKPOINTS); only the
objective's computation is replaced by a cheap deterministic score, so the storage traffic is the assets' and
nothing else is timed. Every storage (Optuna's plain RDBStorage, and the project's get_storage class) runs
--studies fresh studies per kind on the same scratch database, alternating. Printed: statements per trial by
kind (first SQL word and table), and per study kind the statements, transactions (each a BEGIN and a COMMIT
round trip more), round-trip ms of the statements (cursor execute to result) and storage ms per trial (wall
time inside storage calls: ORM and round trips), the latter depending on the machine's load.

Without --dsn (or TEST_DATABASE_URL) a throwaway Postgres cluster is started and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections import Counter
from pathlib import Path

import optuna
import pandas as pd
from optuna.storages import RDBStorage
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dc_pipeline.adapters import optuna_storage, postgres  # noqa: E402
from dc_pipeline.domain.forecasting.backtest import MAX_ORIGINS  # noqa: E402
from dc_pipeline.domain.forecasting.tuned import DEFAULT_PARAMS, suggest_spec  # noqa: E402
from dc_pipeline.domain.outcome_models.candidates import (  # noqa: E402
    available_candidates,
    default_trial_params,
    suggest_config,
)
from dc_pipeline.domain.outcome_models.features import available_feature_sets  # noqa: E402
from dc_pipeline.domain.recommendations.tune import N_CHECKPOINTS, default_values, suggest_values  # noqa: E402
from dc_pipeline.domain.tuning import TuningSettings, make_pruner, make_sampler, optimize, study_seed  # noqa: E402

SCRATCH_DB = "dc_bench_optuna_storage"
SETTINGS = TuningSettings(n_trials=5, n_jobs=1, patience=4)
N_FOLDS = 5
GA_EVALUATIONS = 4000


def _score(trial: optuna.Trial, step: int) -> float:
    """A deterministic score from the trial's params, so a seeded study samples and prunes the same way."""
    text = repr(sorted(trial.params.items()))
    return (sum(map(ord, text)) % 97) / 10 + 1.0 / (step + 1)


def forecast_objective(trial: optuna.Trial) -> float:
    suggest_spec(trial, 12)
    for origin in range(MAX_ORIGINS):
        trial.report(_score(trial, origin), origin)
        if trial.should_prune():
            raise optuna.TrialPruned()
    if trial.params["family"] == "sarimax" and trial.params.get("sarimax_D"):  # as a failing fit does
        trial.set_user_attr("infeasible", "seasonal differencing leaves too few observations")
        raise optuna.TrialPruned()
    return _score(trial, MAX_ORIGINS)


def outcome_objective(trial: optuna.Trial) -> float:
    suggest_config(trial, available_candidates(120), available_feature_sets(24), 4)
    for fold in range(N_FOLDS):
        trial.report(_score(trial, fold), step=fold)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return _score(trial, N_FOLDS)


def ga_objective(trial: optuna.Trial) -> float:
    suggest_values(trial, GA_EVALUATIONS)
    for step in range(1, N_CHECKPOINTS + 1):
        trial.report(1 / _score(trial, step), step)
        if step < N_CHECKPOINTS and trial.should_prune():
            raise optuna.TrialPruned()
    return 1 / _score(trial, N_CHECKPOINTS)


KINDS = {
    "forecast": (forecast_objective, "minimize", dict(DEFAULT_PARAMS)),
    "outcome_model": (outcome_objective, "minimize", default_trial_params(4)),
    "ga_recommendation": (ga_objective, "maximize", default_values(GA_EVALUATIONS)),
}


class StorageMeter:
    """Statements (by kind) and round-trip seconds sent by one storage's engine, and the wall seconds spent
    inside its storage calls (outermost call only: a call that makes other storage calls counts once)."""

    def __init__(self, storage: RDBStorage):
        self.statements: Counter = Counter()
        self.round_trip_s: Counter = Counter()
        self.storage_s = 0.0
        self.transactions = 0
        self._local = threading.local()
        event.listen(storage.engine, "commit", self._committed)
        event.listen(storage.engine, "before_cursor_execute", self._before)
        event.listen(storage.engine, "after_cursor_execute", self._after)
        for name in dir(optuna.storages.BaseStorage):
            if not name.startswith("_") and callable(getattr(storage, name, None)):
                setattr(storage, name, self._timed(getattr(storage, name)))

    def _committed(self, conn) -> None:
        self.transactions += 1

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._local.started = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        kind = statement_kind(statement)
        self.statements[kind] += 1
        self.round_trip_s[kind] += time.perf_counter() - self._local.started

    def _timed(self, method):
        def timed(*args, **kwargs):
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._local.depth = depth
                if depth == 0:
                    self.storage_s += time.perf_counter() - started

        return timed

    def snapshot(self) -> tuple[Counter, Counter, float, int]:
        return Counter(self.statements), Counter(self.round_trip_s), self.storage_s, self.transactions


def statement_kind(sql: str) -> str:
    """'SELECT trials', 'INSERT trial_params', 'UPDATE trials' ... (the statement's verb and first table)."""
    words = sql.split(None, 1)
    verb = words[0].upper() if words else "?"
    pattern = {"INSERT": r"INTO\s+(\w+)", "UPDATE": r"UPDATE\s+(\w+)", "DELETE": r"FROM\s+(\w+)"}.get(
        verb, r"FROM\s+(\w+)"
    )
    table = re.search(pattern, sql, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}".strip()


def run_kind(storage: RDBStorage, kind: str, version: str) -> int:
    """One study of `kind` as its asset runs it; its number of trials."""
    objective, direction, defaults = KINDS[kind]
    name = f"{kind}|bench|all|target|{version}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna_storage.open_study(
        storage, name, direction, make_sampler("TPE", study_seed(name)), make_pruner("median")
    )
    optimize(study, objective, SETTINGS, default_params=defaults)
    return len(study.trials)


def bench(url: str, n_studies: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    with warnings.catch_warnings():  # heartbeats are flagged experimental; the project's storage uses them
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        plain = RDBStorage(
            url, heartbeat_interval=optuna_storage.HEARTBEAT_INTERVAL_S, grace_period=optuna_storage.GRACE_PERIOD_S
        )
    storages = {
        "RDBStorage": plain,  # Optuna's, with the project's heartbeats
        type(optuna_storage.get_storage(url)).__name__: optuna_storage.get_storage(url),
    }
    meters = {label: StorageMeter(storage) for label, storage in storages.items()}
    by_kind, by_statement = [], []
    version = uuid.uuid4().hex[:8]
    for kind in KINDS:
        totals = {label: [Counter(), Counter(), 0.0, 0, 0] for label in storages}
        for i in range(n_studies):
            for label, storage in storages.items():
                before = meters[label].snapshot()
                n_trials = run_kind(storage, kind, f"{label}-{version}-{i}")
                after = meters[label].snapshot()
                total = totals[label]
                total[0].update(after[0] - before[0])
                total[1].update({k: after[1][k] - before[1].get(k, 0.0) for k in after[1]})
                total[2] += after[2] - before[2]
                total[3] += n_trials
                total[4] += after[3] - before[3]
        for label, (statements, round_trips, storage_s, n_trials, transactions) in totals.items():
            by_kind.append(
                {
                    "study": kind,
                    "storage": label,
                    "trials": n_trials,
                    "statements_per_trial": round(sum(statements.values()) / n_trials, 1),
                    "transactions_per_trial": round(transactions / n_trials, 1),
                    "round_trip_ms_per_trial": round(1000 * sum(round_trips.values()) / n_trials, 2),
                    "storage_ms_per_trial": round(1000 * storage_s / n_trials, 2),
                }
            )
            for statement, count in statements.items():
                by_statement.append(
                    {
                        "study": kind,
                        "storage": label,
                        "statement": statement,
                        "per_trial": count / n_trials,
                        "ms_per_trial": 1000 * round_trips[statement] / n_trials,
                    }
                )
    for storage in storages.values():
        storage.engine.dispose()
    table = pd.DataFrame(by_statement)
    # every kind runs the same number of trials: the mean over kinds is the per-trial figure of all three
    kinds = table.pivot_table(
        index=["statement", "storage"], columns="study", values=["per_trial", "ms_per_trial"], fill_value=0
    )
    overall = pd.DataFrame({c: kinds[c].sum(axis=1) / len(KINDS) for c in ("per_trial", "ms_per_trial")})
    wide = overall.unstack("storage", fill_value=0)
    wide.columns = [f"{storage} {figure}" for figure, storage in wide.columns]
    return pd.DataFrame(by_kind), wide.round(2).sort_values(list(wide.columns)[0], ascending=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=6, help="studies per kind and storage")
    parser.add_argument("--dsn", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args(argv)

    root, cluster = None, None
    if args.dsn:
        server = args.dsn
    else:
        from dc_pipeline.adapters.embedded_postgres import EmbeddedPostgres

        root = Path(tempfile.mkdtemp(prefix="dc_bench_optuna_pg_"))
        os.chmod(root, 0o755)
        cluster = EmbeddedPostgres(root)
        server = cluster.ensure_running()
    postgres.ensure_database(server, SCRATCH_DB)
    url = optuna_storage.sqlalchemy_url(optuna_storage.default_storage_url(postgres.database_url(server, SCRATCH_DB)))
    try:
        optuna_storage.get_storage(url)  # the schema and Optuna's tables
        by_kind, by_statement = bench(url, args.studies)
        print(
            f"{args.studies} studies per kind and storage, n_trials {SETTINGS.n_trials}, load {os.getloadavg()[0]:.1f}"
        )
        print(by_kind.to_markdown(index=False))
        print()
        print("statements per trial and their round-trip ms per trial, by statement (all three kinds):")
        print(by_statement.to_markdown())
    finally:
        optuna_storage.dispose_storages()
        with postgres.connect(postgres.database_url(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
