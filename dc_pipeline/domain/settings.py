"""`config/system_config.json` (SPEC §10): typed, defaulted, unknown keys rejected.

Pure parsing: the file is read by the caller; environment overrides are applied in
`dc_pipeline.adapters.environment`, never here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ApiConfig(_Strict):
    timeout: float = 30
    retry_attempts: int = Field(3, ge=0)
    retry_delay: float = Field(1, ge=0)
    max_concurrent_requests: int = Field(10, ge=1)
    service_ports: dict[str, int] | None = None


class AuthConfig(_Strict):
    auth_type: Literal["bearer_token"] = "bearer_token"
    token_refresh_threshold: float = 300


class DatabaseConfig(_Strict):
    connection_timeout: int = 30
    query_timeout: int = 60
    pool_size: int = 10
    max_overflow: int = 20


class OptimizationConfig(_Strict):
    n_trials: int = Field(100, ge=1)
    timeout: float = Field(300, gt=0)
    n_jobs: int = -1
    sampler: Literal["TPE", "CMAES", "RANDOM", "AUTO"] = "TPE"
    pruner: Literal["median", "successive_halving", "none"] = "median"
    patience: int = Field(30, ge=1)


class OptimizerConfig(_Strict):
    max_uplift_points: float = Field(20, gt=0, le=100)
    max_metrics_changed: int = Field(8, ge=1)
    ga_max_evaluations: int = Field(20000, ge=400)


class AnalysisConfig(_Strict):
    default_confidence_level: Literal[0.80, 0.90, 0.95, 0.99] = 0.95
    min_data_points: int = Field(10, ge=2)
    max_forecast_horizon: int = Field(24, ge=1, le=24)


class CachingConfig(_Strict):
    enable_caching: bool = True
    cache_timeout: int = Field(3600, ge=0)
    max_cache_size: int = Field(1000, ge=1)


class ScoringConfig(_Strict):
    score_method: Literal["weighted", "unweighted_mean"] = "weighted"
    section_weighting: Literal["metric_sum", "equal"] = "metric_sum"
    normalized_is_directed: bool = False
    min_weight_coverage: float = Field(0.7, ge=0, le=1)


class DqConfig(_Strict):
    dimension_weights: dict[str, float] = Field(
        default_factory=lambda: {
            d: 1.0 for d in ("completeness", "validity", "uniqueness", "timeliness", "consistency", "volume")
        }
    )
    quarantine_max_fraction: float = Field(0.10, ge=0, le=1)
    max_lag_periods: int = Field(1, ge=0)
    max_staleness_days: int = Field(45, ge=0)
    max_jump_points: float = Field(40, gt=0)


class RobustnessConfig(_Strict):
    n_draws: int = Field(1000, ge=10)
    weight_noise: float = Field(0.25, ge=0, lt=1)
    sobol: bool = False


class BackupKeep(_Strict):
    daily: int = 7
    weekly: int = 4
    monthly: int = 6


class MaintenanceConfig(_Strict):
    log_retention_days: int = Field(30, ge=0)
    report_retention_days: int = Field(90, ge=0)
    optuna_retention_days: int = Field(90, ge=0)
    backup_keep: BackupKeep = Field(default_factory=BackupKeep)


class SystemConfig(_Strict):
    api_config: ApiConfig = Field(default_factory=ApiConfig)
    auth_config: AuthConfig = Field(default_factory=AuthConfig)
    database_config: DatabaseConfig = Field(default_factory=DatabaseConfig)
    optimization_config: OptimizationConfig = Field(default_factory=OptimizationConfig)
    optimizer_config: OptimizerConfig = Field(default_factory=OptimizerConfig)
    analysis_config: AnalysisConfig = Field(default_factory=AnalysisConfig)
    caching_config: CachingConfig = Field(default_factory=CachingConfig)
    scoring_config: ScoringConfig = Field(default_factory=ScoringConfig)
    dq_config: DqConfig = Field(default_factory=DqConfig)
    robustness_config: RobustnessConfig = Field(default_factory=RobustnessConfig)
    maintenance_config: MaintenanceConfig = Field(default_factory=MaintenanceConfig)
    random_seed: int = 42


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key and the fix."""


def parse_system_config(raw: dict[str, Any], source: str = "system_config.json") -> SystemConfig:
    try:
        return SystemConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(
            f"invalid configuration in {source}: {problems}. "
            "Fix or remove these keys (see SPEC §10 for the allowed keys and defaults)."
        ) from None
