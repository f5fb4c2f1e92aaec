"""Settings of the operations stage (SPEC §10): folders, the alert webhook, the API base URLs."""

from pathlib import Path

import dagster as dg

from dc_pipeline.adapters.api_client import DEFAULT_BASE_URLS
from dc_pipeline.domain.operations.performance import PerformanceThresholds

_DEFAULTS = PerformanceThresholds()


class OperationsResource(dg.ConfigurableResource):
    """BACKUP_DIR, LOGS_DIR, ALERT_WEBHOOK_URL, API_BASE_URLS, CACHE_TIMEOUT and the config folder
    that backups archive. Empty webhook: alerts go to the log only."""

    backup_dir: str = "backups"
    logs_dir: str = "logs"
    alert_webhook_url: str = ""
    api_base_urls: str = ",".join(DEFAULT_BASE_URLS)
    cache_timeout_s: int = 3600
    config_dir: str = ""
    freshness_hours: float = 26.0
    probe_timeout_s: int = 5
    # performance_monitor_sensor thresholds (SPEC §11: 80 % CPU or memory, a canary slower than 60 s).
    cpu_alert_percent: float = _DEFAULTS.cpu_percent
    memory_alert_percent: float = _DEFAULTS.memory_percent
    canary_alert_seconds: float = _DEFAULTS.canary_seconds
    min_disk_free_fraction: float = _DEFAULTS.min_disk_free_fraction
    job_p95_alert_seconds: float = _DEFAULTS.job_p95_seconds

    def thresholds(self) -> PerformanceThresholds:
        return PerformanceThresholds(
            cpu_percent=self.cpu_alert_percent,
            memory_percent=self.memory_alert_percent,
            canary_seconds=self.canary_alert_seconds,
            min_disk_free_fraction=self.min_disk_free_fraction,
            job_p95_seconds=self.job_p95_alert_seconds,
        )

    def backups(self) -> Path:
        return Path(self.backup_dir).resolve()

    def logs(self) -> Path:
        return Path(self.logs_dir).resolve()

    def base_urls(self) -> list[str]:
        return [u.strip() for u in self.api_base_urls.split(",") if u.strip()]

    def config_folder(self) -> Path:
        return Path(self.config_dir).resolve() if self.config_dir else Path(__file__).resolve().parents[2] / "config"
