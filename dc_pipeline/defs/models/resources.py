"""Resources and run config of the tuned-model assets (SPEC §6d, §10).

Precedence of the tuning budget: run config (TuningConfig) > environment (OPTUNA_*, bound as
dg.EnvVar on OptunaResource) > system_config.json optimization_config > built-in defaults.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from dc_pipeline.defs.resources import PostgresResource
from dc_pipeline.domain.settings import OptimizationConfig
from dc_pipeline.domain.tuning_settings import TuningSettings

if TYPE_CHECKING:  # optuna is imported where studies are opened, not when the code location loads
    import optuna

StudyFactory = Callable[[str, str], "optuna.Study"]

SAMPLERS = ("TPE", "CMAES", "RANDOM", "AUTO")
PRUNERS = ("median", "successive_halving", "none")


class TuningConfig(dg.Config):
    """Per-run overrides of the Optuna budget; unset fields fall back to the resource."""

    n_trials: int | None = None
    timeout_s: float | None = None
    n_jobs: int | None = None
    sampler: str | None = None
    seed: int | None = None  # model seed (GA, bootstrap, CV estimators); default random_seed


class OutcomeModelConfig(TuningConfig):
    """TuningConfig plus the number of brand-level bootstrap refits behind the outcome-per-DC-point
    CI (SPEC §6a: 500). Lowering it shortens a run (it dominates once tuning is small), not the tuning."""

    bootstrap_reps: int = 500


class RecommendationConfig(TuningConfig):
    """TuningConfig plus per-run overrides of optimizer_config (SPEC §6c)."""

    max_uplift_points: float | None = None
    max_metrics_changed: int | None = None
    ga_max_evaluations: int | None = None


class OptunaResource(dg.ConfigurableResource):
    """Optuna budget and storage. Unset numeric fields take optimization_config's values."""

    database: dg.ResourceDependency[PostgresResource]
    n_trials: int | None = None
    timeout_s: int | None = None  # seconds, whole (OPTUNA_TIMEOUT is bound with EnvVar.int)
    n_jobs: int | None = None
    sampler: str | None = None
    pruner: str | None = None
    storage_url: str = ""  # OPTUNA_STORAGE_URL; empty: the database URL with search_path=optuna

    def resolved_storage_url(self) -> str:
        from dc_pipeline.adapters import optuna_storage

        return self.storage_url or optuna_storage.default_storage_url(self.database.resolved_url())

    def settings(self, system: OptimizationConfig, run: TuningConfig | None = None) -> TuningSettings:
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
            sampler=sampler,
            pruner=pruner,
            patience=system.patience,
        )

    def storage(self) -> "optuna.storages.RDBStorage":
        from dc_pipeline.adapters import optuna_storage

        return optuna_storage.get_storage(self.resolved_storage_url())

    def study_factory(self, settings: TuningSettings, n_brands: int = 0, n_metrics: int = 0) -> StudyFactory:
        """factory(name, direction): the stored study of that name, created or resumed, with the
        sampler seeded by sha256(name) (SPEC §6d) and the configured pruner."""
        from dc_pipeline.adapters import optuna_storage
        from dc_pipeline.domain.tuning import make_pruner, make_sampler, study_seed

        storage = self.storage()

        def factory(name: str, direction: str) -> "optuna.Study":
            sampler = make_sampler(settings.sampler, study_seed(name), n_brands, n_metrics)
            return optuna_storage.open_study(storage, name, direction, sampler, make_pruner(settings.pruner))

        return factory
