"""Optuna's RDBStorage with a running trial kept in its process; a finished study's rows are the same.

Plain RDBStorage sends ~75 statements a trial on the assets' studies (a session per parameter, report,
attribute and read); on a machine where Postgres shares the cores with the workers, every round trip is
CPU the workers cannot use and a wait for a backend to be scheduled. Here:

- A trial created (or a waiting trial popped) by this process keeps its parameters, user attributes and
  intermediate values in the process and writes them with its values and final state in ONE transaction
  when it finishes (so the process that runs a trial finishes it, as study.optimize does). Nothing is
  written when another worker has finished or failed it meanwhile, and Optuna's UpdateFinishedTrialError
  is raised as before. System attributes are written at once (SuccessiveHalving keeps its rungs there
  and other workers read them).
- A new parameter is checked against the study's stored distributions (read once per study, and again at
  most once per trial when the trial meets a name not seen yet), so an incompatible distribution still
  raises Optuna's ValueError.
- Reads of a trial running or just finished here are answered from the process; other reads are one
  SELECT joining a trial's relations; the study's existence is checked on its first read only. Of the
  three reads of the study between two trials (patience callback, waiting-trial check, sampler), the
  last two are answered "nothing new" when they come within FRESH_S of the first (_read_recently).
- A trial is created in one transaction with its first heartbeat (3 statements, not 4 and 2 sessions); a
  heartbeat is one upsert; a study's stale trials are looked for at most once per heartbeat interval by
  each process (not before every trial).

What changes for the others: a worker sees another's trial finished up to FRESH_S later; it does not see a
running trial's parameters, user attributes or fold scores until it finishes (TPE, CMA-ES and the median
pruner read finished trials only; the running trial sees its own). A worker that dies mid-trial leaves a
RUNNING trial with no parameters: the heartbeat check fails it after the grace period (found up to one
heartbeat interval later than before) and the retry callback enqueues a copy, which re-runs an enqueued
trial's fixed parameters (kept in system attributes) but samples a sampled trial's parameters anew, as they
died with the worker.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Container
from datetime import datetime

from optuna import distributions
from optuna.exceptions import StorageInternalError
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import exc, or_, orm

from dc_pipeline.adapters import optuna_rdb_rows as rows

# TrialModel's relations (backrefs of the child models, so looked up once the mappers are configured)
_RELATIONS = ("params", "values", "user_attributes", "system_attributes", "intermediate_values")
_CREATE_ATTEMPTS = 5  # as Optuna: creating a trial locks the study row, and a deadlock is retried
FRESH_S = 0.25  # a study read this recently, with nothing finished here since, is not read again


def _joined() -> list:
    """Load options reading a trial's relations in the trial's own SELECT (a few rows each)."""
    orm.configure_mappers()
    return [orm.joinedload(getattr(models.TrialModel, relation)) for relation in _RELATIONS]


class BatchedRDBStorage(RDBStorage):
    """RDBStorage that writes a trial run in this process once, when it finishes (Postgres only)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start_memory()

    def _start_memory(self) -> None:
        self._running: dict[int, rows.RunningTrial] = {}  # trial_id -> trial running here
        self._finished: dict[int, FrozenTrial] = {}  # trial_id -> finished here, not read back yet
        self._distributions: dict[int, dict[str, distributions.BaseDistribution]] = {}  # study -> name -> first
        self._known_studies: set[int] = set()
        self._stale_checked: dict[int, float] = {}  # study -> monotonic time of this process's last check
        self._fresh: dict[int, tuple] = {}  # study -> (read at, the reader's cache state after that read)
        self._beaten: set[int] = set()  # trials created here with their first heartbeat, not yet beaten
        self._memory_lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        memory = ("_running", "_finished", "_distributions", "_known_studies", "_stale_checked", "_fresh", "_beaten")
        for key in (*memory, "_memory_lock"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._start_memory()

    # -- trials created and finished here -------------------------------------------------------------------

    def _create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> FrozenTrial:
        if template_trial is not None:  # enqueued and retried trials: Optuna's own rows, written at once
            return super()._create_new_trial(study_id, template_trial)
        for attempt in range(1, _CREATE_ATTEMPTS + 1):
            try:
                with _create_scoped_session(self.scoped_session) as session:
                    trial = rows.insert_running_trial(session, study_id, heartbeat=self.heartbeat_interval is not None)
                break
            except StorageInternalError:
                if attempt == _CREATE_ATTEMPTS:
                    raise
                time.sleep(random.random() * 2.0)
        with self._memory_lock:
            self._running[trial._trial_id] = rows.RunningTrial(study_id, copy.deepcopy(trial))
            if self.heartbeat_interval is not None:
                self._beaten.add(trial._trial_id)
        return trial

    def set_trial_state_values(self, trial_id: int, state: TrialState, values=None) -> bool:
        run = self._run(trial_id)
        if run is None or not state.is_finished():
            started = super().set_trial_state_values(trial_id, state, values)
            if started and state == TrialState.RUNNING:  # a waiting trial this process popped
                self._keep_popped(trial_id)
            return started
        completed = datetime.now()
        try:
            with _create_scoped_session(self.scoped_session) as session:
                if not rows.finish_trial(session, run, state, values, completed):
                    stored = models.TrialModel.find_or_raise_by_id(trial_id, session)
                    self.check_trial_is_updatable(trial_id, stored.state)  # UpdateFinishedTrialError
        except exc.IntegrityError:
            return False
        finished = run.frozen()
        finished.state, finished.datetime_complete = state, completed
        finished.values = None if values is None else [float(v) for v in values]
        with self._memory_lock:
            self._running.pop(trial_id, None)
            self._finished[trial_id] = finished
            self._fresh.pop(run.study_id, None)
        return True

    def _keep_popped(self, trial_id: int) -> None:
        with _create_scoped_session(self.scoped_session) as session:
            model = self._trial_model(trial_id, session)
            study_id, trial = model.study_id, self._build_frozen_trial_from_trial_model(model)
        with self._memory_lock:
            self._running[trial_id] = rows.RunningTrial(study_id, trial)
            self._fresh.pop(study_id, None)

    def _run(self, trial_id: int) -> rows.RunningTrial | None:
        with self._memory_lock:
            return self._running.get(trial_id)

    # -- what a running trial sets ----------------------------------------------------------------------------

    def _set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: distributions.BaseDistribution,
        previous_distribution: distributions.BaseDistribution | None,
    ) -> None:
        run = self._run(trial_id)
        if run is None:
            return super()._set_trial_param(
                trial_id, param_name, param_value_internal, distribution, previous_distribution
            )
        known = previous_distribution or self._study_distribution(run, param_name)
        if known is not None:
            distributions.check_distribution_compatibility(known, distribution)  # Optuna's ValueError
        with self._memory_lock:
            run.params[param_name] = (param_value_internal, distribution)
            self._distributions.setdefault(run.study_id, {}).setdefault(param_name, distribution)

    def _study_distribution(self, run: rows.RunningTrial, name: str) -> distributions.BaseDistribution | None:
        """The study's distribution of `name`, re-read from Postgres when the study is new to this process
        or, once per trial, when the name is (another worker may have stored it since the last read)."""
        with self._memory_lock:
            known = self._distributions.get(run.study_id)
            if known is not None and (name in known or run.distributions_reloaded):
                return known.get(name)
            run.distributions_reloaded = True
        with _create_scoped_session(self.scoped_session) as session:
            stored = rows.study_distributions(session, run.study_id)
        with self._memory_lock:
            known = self._distributions.setdefault(run.study_id, {})
            known.update(stored)
            return known.get(name)

    def set_trial_user_attr(self, trial_id: int, key: str, value) -> None:
        run = self._run(trial_id)
        if run is None:
            return super().set_trial_user_attr(trial_id, key, value)
        with self._memory_lock:
            run.user_attrs[key] = copy.deepcopy(value)

    def set_trial_system_attr(self, trial_id: int, key: str, value) -> None:
        super().set_trial_system_attr(trial_id, key, value)
        run = self._run(trial_id)
        if run is not None:
            with self._memory_lock:
                run.trial.system_attrs[key] = copy.deepcopy(value)

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        run = self._run(trial_id)
        if run is None:
            return super().set_trial_intermediate_value(trial_id, step, intermediate_value)
        with self._memory_lock:
            run.intermediate_values[step] = float(intermediate_value)

    # -- reads ------------------------------------------------------------------------------------------------

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with self._memory_lock:
            run = self._running.get(trial_id)
            finished = self._finished.pop(trial_id, None)
        if run is not None:
            return run.frozen()
        if finished is not None:
            return finished
        with _create_scoped_session(self.scoped_session) as session:
            return self._build_frozen_trial_from_trial_model(self._trial_model(trial_id, session))

    @staticmethod
    def _trial_model(trial_id: int, session) -> models.TrialModel:
        query = session.query(models.TrialModel).filter(models.TrialModel.trial_id == trial_id)
        model = query.options(*_joined()).one_or_none()
        if model is None:
            models.TrialModel.find_or_raise_by_id(trial_id, session)  # Optuna's KeyError
        return model

    def _get_trials(
        self,
        study_id: int,
        states: Container[TrialState] | None,
        included_trial_ids: set[int],
        trial_id_greater_than: int,
    ) -> list[FrozenTrial]:
        """RDBStorage._get_trials (the trials of a study after the last one read, and the unfinished
        ones) in one joined SELECT, with the trials running here as this process knows them."""
        state = (trial_id_greater_than, frozenset(included_trial_ids))
        if states is None and self._read_recently(study_id, state):
            return []
        read_at = time.monotonic()
        trial = models.TrialModel
        included = {i for i in included_trial_ids if i <= trial_id_greater_than}
        with _create_scoped_session(self.scoped_session) as session:
            if study_id not in self._known_studies:
                models.StudyModel.find_or_raise_by_id(study_id, session)
            query = session.query(trial).options(*_joined()).filter(trial.study_id == study_id)
            if states is not None:
                query = query.filter(trial.state.in_(list(states)))
            if trial_id_greater_than > -1:
                newer = trial.trial_id > trial_id_greater_than
                query = query.filter(or_(trial.trial_id.in_(included), newer) if included else newer)
            found = [self._build_frozen_trial_from_trial_model(t) for t in query.order_by(trial.trial_id)]
        with self._memory_lock:
            self._known_studies.add(study_id)
            for i, stored in enumerate(found):
                run = self._running.get(stored._trial_id)
                if run is not None and stored.state == TrialState.RUNNING:
                    found[i] = run.frozen()
                elif stored.state.is_finished():
                    self._finished.pop(stored._trial_id, None)
            if states is None and trial_id_greater_than > -1:
                self._fresh[study_id] = (read_at, _state_after(state, found))
        return found

    def _read_recently(self, study_id: int, state: tuple) -> bool:
        """Whether an incremental read of the study (Optuna's cache asking for what changed since its state)
        can answer "nothing": the same state was left by a read less than FRESH_S ago and no trial of the
        study finished or started here since. A trial is read three times between two trials (the patience
        callback, the waiting-trial check, the sampler); this answers the last two. Another worker's trial
        that finished within FRESH_S is seen at the next read, FRESH_S later at most."""
        with self._memory_lock:
            seen = self._fresh.get(study_id)
        return seen is not None and time.monotonic() - seen[0] < FRESH_S and seen[1] == state

    # -- heartbeats -------------------------------------------------------------------------------------------

    def record_heartbeat(self, trial_id: int) -> None:
        with self._memory_lock:
            if trial_id in self._beaten:  # the heartbeat thread's first beat: written with the trial
                self._beaten.discard(trial_id)
                return
        with _create_scoped_session(self.scoped_session, True) as session:
            rows.record_heartbeat(session, trial_id)

    def _get_stale_trial_ids(self, study_id: int) -> list[int]:
        """Optuna looks before every trial; a trial turns stale only after the grace period without a
        heartbeat, so one look per heartbeat interval and process finds it at most that much later."""
        now = time.monotonic()
        with self._memory_lock:
            last = self._stale_checked.get(study_id)
            if last is not None and now - last < self.heartbeat_interval:
                return []
            self._stale_checked[study_id] = now
        return super()._get_stale_trial_ids(study_id)

    def delete_study(self, study_id: int) -> None:
        super().delete_study(study_id)
        with self._memory_lock:
            self._known_studies.discard(study_id)
            self._distributions.pop(study_id, None)


def _state_after(state: tuple, found: list[FrozenTrial]) -> tuple:
    """Optuna's _CachedStorage state (last finished trial id, unfinished trial ids) after it takes in `found`."""
    last_finished, unfinished = state
    finished = {t._trial_id for t in found if t.state.is_finished()}
    unfinished = (unfinished | {t._trial_id for t in found}) - finished
    return (max([last_finished, *finished]), frozenset(unfinished))
