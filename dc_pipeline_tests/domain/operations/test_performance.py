import numpy as np
import pandas as pd

from dc_pipeline.domain.operations.performance import PerformanceThresholds, performance_alerts, run_duration_stats


def test_run_duration_stats():
    runs = pd.DataFrame(
        {
            "job_name": ["a"] * 4 + ["b"],
            "status": ["SUCCESS", "FAILURE", "SUCCESS", "STARTED", "SUCCESS"],
            "start_time": [0, 0, 0, 0, 0.0],
            "end_time": [10, 20, 30, np.nan, 5.0],
        }
    )
    stats = run_duration_stats(runs)
    a = stats.set_index("job_name").loc["a"]
    assert a.n_runs == 3 and a.n_failed == 1 and a.p50_s == 20 and a.max_s == 30
    assert abs(a.p95_s - 29.0) < 1e-9


def test_alerts_cross_thresholds_only():
    stats = pd.DataFrame(
        {
            "job_name": ["ingest_job"],
            "n_runs": [3],
            "n_failed": [0],
            "p50_s": [10.0],
            "p95_s": [4000.0],
            "max_s": [4100.0],
        }
    )
    alerts = performance_alerts(
        {"cpu_percent": 91.0, "memory_percent": 50.0, "canary_seconds": 61.0, "disk_free_fraction": 0.5},
        stats,
        PerformanceThresholds(),
    )
    assert len(alerts) == 3
    assert alerts[0].startswith("high CPU usage: 91.0 %") and "canary took 61.0 s" in alerts[1]
    assert "ingest_job" in alerts[2]
    assert performance_alerts({"cpu_percent": 10.0, "canary_seconds": None}, stats.iloc[0:0]) == []
