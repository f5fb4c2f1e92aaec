"""dc_pipeline: Digi-Cadence brand data to decisions, as Dagster assets."""

__version__ = "0.1.0"
