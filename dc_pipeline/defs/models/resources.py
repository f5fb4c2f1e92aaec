"""Resources and run config of the tuned-model assets (SPEC §6d, §10).

Precedence of the tuning budget: run config (TuningConfig) > environment (OPTUNA_*, bound as
dg.EnvVar on OptunaResource) > system_config.json optimization_config > built-in defaults.
"""

import os
from pathlib import Path
from typing import Callable, Optional

import dagster as dg
import optuna

from dc_pipeline.adapters import optuna_storage
from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.domain.settings import OptimizationConfig
from dc_pipeline.domain.tuning import TuningSettings, make_pruner, make_sampler, study_seed

StudyFactory = Callable[[str, str], optuna.Study]

SAMPLERS = ("TPE", "CMAES", "RANDOM", "AUTO")
PRUNERS = ("median", "successive_halving", "none")


class TuningConfig(dg.Config):
    """Per-run overrides of the Optuna budget; unset fields fall back to the resource."""

    n_trials: Optional[int] = None
    timeout_s: Optional[float] = None
    n_jobs: Optional[int] = None
    sampler: Optional[str] = None
    seed: Optional[int] = None  # model seed (GA, bootstrap, CV estimators); default random_seed


class OutcomeModelConfig(TuningConfig):
    """TuningConfig plus the number of brand-level bootstrap refits behind the outcome-per-DC-point
    CI (SPEC §6a: 500). Lowering it shortens a run (it dominates once tuning is small), not the tuning."""

    bootstrap_reps: int = 500


class RecommendationConfig(TuningConfig):
    """TuningConfig plus per-run overrides of optimizer_config (SPEC §6c)."""

    max_uplift_points: Optional[float] = None
    max_metrics_changed: Optional[int] = None
    ga_max_evaluations: Optional[int] = None


class OptunaResource(dg.ConfigurableResource):
    """Optuna budget and storage. Unset numeric fields take optimization_config's values."""

    database: dg.ResourceDependency[PostgresResource]
    n_trials: Optional[int] = None
    timeout_s: Optional[int] = None  # seconds, whole (OPTUNA_TIMEOUT is bound with EnvVar.int)
    n_jobs: Optional[int] = None
    sampler: Optional[str] = None
    pruner: Optional[str] = None
    storage_url: str = ""  # OPTUNA_STORAGE_URL; empty: the database URL with search_path=optuna

    def resolved_storage_url(self) -> str:
        return self.storage_url or optuna_storage.default_storage_url(self.database.resolved_url())

    def settings(self, system: OptimizationConfig, run: Optional[TuningConfig] = None) -> TuningSettings:
        def pick(run_value, own_value, system_value):
            return next(v for v in (run_value, own_value, system_value) if v is not None)

        run = run or TuningConfig()
        sampler = pick(run.sampler, self.sampler, system.sampler).upper()
        pruner = pick(None, self.pruner, system.pruner)
        if sampler not in SAMPLERS:
            raise dg.Failure(description=f"unknown Optuna sampler {sampler!r}: use one of {', '.join(SAMPLERS)}")
        if pruner not in PRUNERS:
            raise dg.Failure(description=f"unknown Optuna pruner {pruner!r}: use one of {', '.join(PRUNERS)}")
        return TuningSettings(
            n_trials=int(pick(run.n_trials, self.n_trials, system.n_trials)),
            timeout_s=float(pick(run.timeout_s, self.timeout_s, system.timeout)),
            n_jobs=int(pick(run.n_jobs, self.n_jobs, system.n_jobs)),
            sampler=sampler, pruner=pruner, patience=system.patience,
        )

    def storage(self) -> optuna.storages.RDBStorage:
        return optuna_storage.get_storage(self.resolved_storage_url())

    def study_factory(self, settings: TuningSettings, n_brands: int = 0, n_metrics: int = 0) -> StudyFactory:
        """factory(name, direction): the stored study of that name, created or resumed, with the
        sampler seeded by sha256(name) (SPEC §6d) and the configured pruner."""
        storage = self.storage()

        def factory(name: str, direction: str) -> optuna.Study:
            sampler = make_sampler(settings.sampler, study_seed(name), n_brands, n_metrics)
            return optuna_storage.open_study(storage, name, direction, sampler, make_pruner(settings.pruner))

        return factory


class ModelStoreResource(dg.ConfigurableResource):
    """Folder of joblib model artifacts (MODELS_DIR, default `models`)."""

    models_dir: str = "models"

    def root(self) -> Path:
        path = Path(self.models_dir).resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path


def _env(name: str, kind: str = "str"):
    """dg.EnvVar (resolved at launch, shown as a variable in the UI) when the variable is set."""
    if not os.environ.get(name):
        return None
    return {"int": dg.EnvVar.int, "str": dg.EnvVar}[kind](name)


def build_optuna_resource(database: PostgresResource) -> OptunaResource:
    kwargs = {
        "n_trials": _env("OPTUNA_N_TRIALS", "int"),
        "n_jobs": _env("OPTUNA_N_JOBS", "int"),
        "timeout_s": _env("OPTUNA_TIMEOUT", "int"),
        "sampler": _env("OPTUNA_SAMPLER"),
        "pruner": _env("OPTUNA_PRUNER"),
        "storage_url": _env("OPTUNA_STORAGE_URL"),
    }
    return OptunaResource(database=database, **{k: v for k, v in kwargs.items() if v is not None})


def build_model_store() -> ModelStoreResource:
    value = _env("MODELS_DIR")
    return ModelStoreResource(models_dir=value) if value is not None else ModelStoreResource()
