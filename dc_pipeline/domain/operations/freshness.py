"""How fresh the key assets must be (SPEC §11): the source pulls declare it as a Dagster
FreshnessPolicy and the status reports the same window."""

SOURCE_FRESHNESS_HOURS = 26.0  # a daily refresh plus two hours of slack
SOURCE_WARN_HOURS = 24.0

# Assets whose last successful materialization the status reports, path form of the key.
KEY_ASSETS = (
    "reference_snapshot",
    "src_normalised_values",
    "dq_results",
    "dc_scores",
    "report_dc_score_performance_analysis",
)
