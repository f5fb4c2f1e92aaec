"""The few SQL statements BatchedRDBStorage sends instead of Optuna's ORM round trips (Postgres).

Each writes the same rows Optuna's RDBStorage writes (same tables, columns and stored forms of values);
only the number of statements differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from optuna import distributions
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert


@dataclass
class RunningTrial:
    """A trial running in this process: what it has set so far, written when it finishes."""

    study_id: int
    trial: FrozenTrial  # as created (or read when popped), with the system attributes written since
    params: dict[str, tuple[float, distributions.BaseDistribution]] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    intermediate_values: dict[int, float] = field(default_factory=dict)
    distributions_reloaded: bool = False  # the study's distributions were re-read once for this trial

    def frozen(self) -> FrozenTrial:
        """The trial as a read of it would return it, were the kept values stored."""
        trial = FrozenTrial(
            number=self.trial.number,
            state=self.trial.state,
            value=None,
            values=self.trial.values,
            datetime_start=self.trial.datetime_start,
            datetime_complete=self.trial.datetime_complete,
            params={**self.trial.params, **{n: d.to_external_repr(v) for n, (v, d) in self.params.items()}},
            distributions={**self.trial.distributions, **{n: d for n, (_, d) in self.params.items()}},
            user_attrs={**self.trial.user_attrs, **self.user_attrs},
            system_attrs=dict(self.trial.system_attrs),
            intermediate_values={**self.trial.intermediate_values, **self.intermediate_values},
            trial_id=self.trial._trial_id,
        )
        return trial


def insert_running_trial(session, study_id: int, heartbeat: bool) -> FrozenTrial:
    """A new RUNNING trial numbered as Optuna numbers it (the trials of the study before it), under
    Optuna's lock on the study row: with the lock held every earlier trial is committed, so their count
    is the number Optuna's separate count-and-update would give. 2 statements instead of 4, and with
    `heartbeat` its first heartbeat row, which Optuna's heartbeat thread writes in a session of its own."""
    models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
    trial = models.TrialModel
    started = datetime.now()
    number = select(func.count(trial.trial_id)).where(trial.study_id == study_id).scalar_subquery()
    statement = insert(trial).values(study_id=study_id, number=number, state=TrialState.RUNNING, datetime_start=started)
    trial_id, trial_number = session.execute(statement.returning(trial.trial_id, trial.number)).one()
    if heartbeat:
        session.execute(insert(models.TrialHeartbeatModel).values(trial_id=trial_id, heartbeat=func.now()))
    return FrozenTrial(
        number=trial_number,
        state=TrialState.RUNNING,
        value=None,
        values=None,
        datetime_start=started,
        datetime_complete=None,
        params={},
        distributions={},
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=trial_id,
    )


def finish_trial(session, run: RunningTrial, state: TrialState, values, completed: datetime) -> bool:
    """The trial's state, values, params, user attributes and intermediate values in one transaction.
    False when the trial is no longer RUNNING (finished or failed elsewhere), with nothing written."""
    trial_id = run.trial._trial_id
    trial = models.TrialModel
    moved = session.execute(
        update(trial)
        .where(trial.trial_id == trial_id, trial.state == TrialState.RUNNING)
        .values(state=state, datetime_complete=completed)
        .returning(trial.trial_id)
    ).first()
    if moved is None:
        return False
    if run.params:
        rows = [
            {
                "trial_id": trial_id,
                "param_name": name,
                "param_value": value,
                "distribution_json": distributions.distribution_to_json(distribution),
            }
            for name, (value, distribution) in run.params.items()
        ]
        session.execute(insert(models.TrialParamModel), rows)
    if run.user_attrs:
        _upsert(
            session,
            models.TrialUserAttributeModel,
            ("trial_id", "key"),
            [{"trial_id": trial_id, "key": k, "value_json": json.dumps(v)} for k, v in run.user_attrs.items()],
        )
    if run.intermediate_values:
        stored = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr
        rows = [
            dict(zip(("intermediate_value", "intermediate_value_type"), stored(v)), trial_id=trial_id, step=step)
            for step, v in run.intermediate_values.items()
        ]
        _upsert(session, models.TrialIntermediateValueModel, ("trial_id", "step"), rows)
    if values is not None:
        rows = [
            dict(
                zip(("value", "value_type"), models.TrialValueModel.value_to_stored_repr(v)),
                trial_id=trial_id,
                objective=i,
            )
            for i, v in enumerate(values)
        ]
        _upsert(session, models.TrialValueModel, ("trial_id", "objective"), rows)
    return True


def record_heartbeat(session, trial_id: int) -> None:
    """Optuna's heartbeat row (inserted, then its time moved on) in one statement instead of 2-3."""
    beat = models.TrialHeartbeatModel
    statement = pg_insert(beat).values(trial_id=trial_id, heartbeat=func.now())
    session.execute(statement.on_conflict_do_update(index_elements=[beat.trial_id], set_={"heartbeat": func.now()}))


def study_distributions(session, study_id: int) -> dict[str, distributions.BaseDistribution]:
    """The distribution each parameter name of the study was first stored with (Optuna checks new
    parameters against the study's stored ones)."""
    param, trial = models.TrialParamModel, models.TrialModel
    rows = session.execute(
        select(param.param_name, param.distribution_json)
        .join(trial, trial.trial_id == param.trial_id)
        .where(trial.study_id == study_id)
        .distinct(param.param_name)
        .order_by(param.param_name, param.param_id)
    )
    return {name: distributions.json_to_distribution(text) for name, text in rows}


def _upsert(session, model, keys: tuple[str, ...], rows: list[dict]) -> None:
    statement = pg_insert(model).values(rows)
    updated = {c: statement.excluded[c] for c in rows[0] if c not in keys}
    session.execute(statement.on_conflict_do_update(index_elements=list(keys), set_=updated))
