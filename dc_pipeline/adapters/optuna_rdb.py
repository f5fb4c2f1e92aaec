"""Optuna's RDBStorage with fewer round trips per trial; the stored studies are the same.

A trial reported its fold scores one session each (a SELECT of the trial, a SELECT of the step,
an INSERT: ~15 statements a trial) and read itself back right after it was created (a trial and
its five relations: 6 statements). On a machine where Postgres shares the cores with the
workers, every round trip is CPU the workers cannot use and a wait for a backend to be scheduled.

- Intermediate values are kept in the process that runs the trial and written in one INSERT
  when the trial finishes, before its state. The pruners read other trials' intermediate values
  only of finished trials (Median, Percentile: COMPLETE; SuccessiveHalving compares rung scores
  it keeps in system attributes, still written at once), and the running trial sees its own
  reports (Optuna keeps them on the Trial), so their decisions are unchanged. While the trial
  runs, this process's reads of it include the kept values (a pruned trial's value is its last
  report).
  What changes: another process does not see a running trial's fold scores until it finishes;
  a worker that dies loses the fold scores of its running trial, which then fails as before.
- The first read of a trial this process has just created is answered from the creation; reads of
  trials are one SELECT joining their relations instead of a SELECT per relation.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Container

from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import or_, orm

# TrialModel's relations (backrefs of the child models, so looked up once the mappers are configured)
_RELATIONS = ("params", "values", "user_attributes", "system_attributes", "intermediate_values")


def _joined() -> list:
    """Load options reading a trial's relations in the trial's own SELECT (a few rows each)."""
    orm.configure_mappers()
    return [orm.joinedload(getattr(models.TrialModel, relation)) for relation in _RELATIONS]


class BatchedRDBStorage(RDBStorage):
    """RDBStorage that writes a trial's intermediate values once, when the trial finishes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending: dict[int, dict[int, float]] = {}  # trial_id -> step -> value, not yet stored
        self._created: dict[int, FrozenTrial] = {}  # trial_id -> trial as created, not yet read
        self._pending_lock = threading.Lock()

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        for key in ("_pending", "_created", "_pending_lock"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._pending, self._created, self._pending_lock = {}, {}, threading.Lock()

    def _create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> FrozenTrial:
        trial = super()._create_new_trial(study_id, template_trial)
        if template_trial is None:  # a fresh RUNNING trial: Optuna reads it back at once (Trial.__init__)
            with self._pending_lock:
                self._created[trial._trial_id] = copy.deepcopy(trial)
        return trial

    def set_trial_intermediate_value(self, trial_id: int, step: int, intermediate_value: float) -> None:
        with self._pending_lock:
            self._pending.setdefault(trial_id, {})[step] = float(intermediate_value)

    def set_trial_state_values(self, trial_id: int, state: TrialState, values=None) -> bool:
        if state.is_finished():
            self._write_pending(trial_id)
        return super().set_trial_state_values(trial_id, state, values)

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with self._pending_lock:
            created = self._created.pop(trial_id, None)
        trial = created if created is not None else self._read_trial(trial_id)
        return self._with_pending(trial)

    def _read_trial(self, trial_id: int) -> FrozenTrial:
        with _create_scoped_session(self.scoped_session) as session:
            query = session.query(models.TrialModel).filter(models.TrialModel.trial_id == trial_id)
            model = query.options(*_joined()).one_or_none()
            if model is None:
                models.TrialModel.find_or_raise_by_id(trial_id, session)  # Optuna's KeyError
            return self._build_frozen_trial_from_trial_model(model)

    def _get_trials(
        self,
        study_id: int,
        states: Container[TrialState] | None,
        included_trial_ids: set[int],
        trial_id_greater_than: int,
    ) -> list[FrozenTrial]:
        """RDBStorage._get_trials (the trials of a study after the last one read, and the unfinished
        ones) with the relations joined: 2 statements instead of 7."""
        trial = models.TrialModel
        included = {i for i in included_trial_ids if i <= trial_id_greater_than}
        with _create_scoped_session(self.scoped_session) as session:
            models.StudyModel.find_or_raise_by_id(study_id, session)
            query = session.query(trial).options(*_joined()).filter(trial.study_id == study_id)
            if states is not None:
                query = query.filter(trial.state.in_(list(states)))
            if trial_id_greater_than > -1:
                newer = trial.trial_id > trial_id_greater_than
                query = query.filter(or_(trial.trial_id.in_(included), newer) if included else newer)
            found = [self._build_frozen_trial_from_trial_model(t) for t in query.order_by(trial.trial_id)]
        return [self._with_pending(t) for t in found]

    def _with_pending(self, trial: FrozenTrial) -> FrozenTrial:
        with self._pending_lock:
            pending = dict(self._pending.get(trial._trial_id, {}))
        if pending:
            trial.intermediate_values = {**trial.intermediate_values, **pending}
        return trial

    def _write_pending(self, trial_id: int) -> None:
        """The kept intermediate values of the trial in one session (checked updatable, as each
        report was); kept until stored, so a failed write leaves them for the next attempt."""
        with self._pending_lock:
            pending = dict(self._pending.get(trial_id, {}))
            self._created.pop(trial_id, None)
        if pending:
            with _create_scoped_session(self.scoped_session, True) as session:
                trial = models.TrialModel.find_or_raise_by_id(trial_id, session)
                self.check_trial_is_updatable(trial_id, trial.state)
                stored = {
                    v.step: v for v in session.query(models.TrialIntermediateValueModel).filter_by(trial_id=trial_id)
                }
                for step, value in pending.items():
                    stored_value, value_type = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr(
                        value
                    )
                    row = stored.get(step)
                    if row is None:
                        session.add(
                            models.TrialIntermediateValueModel(
                                trial_id=trial_id,
                                step=step,
                                intermediate_value=stored_value,
                                intermediate_value_type=value_type,
                            )
                        )
                    else:
                        row.intermediate_value, row.intermediate_value_type = stored_value, value_type
        with self._pending_lock:
            self._pending.pop(trial_id, None)
