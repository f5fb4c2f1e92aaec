"""Deterministic demo data (SPEC §12), the TechCorp fixture (SPEC §4) and the API simulator."""

from dc_pipeline.demo.dataset import SIZES, dataset_sha256, demo_dataset
from dc_pipeline.demo.generator import DemoData, generate
from dc_pipeline.demo.techcorp import techcorp_tables

__all__ = ["SIZES", "DemoData", "dataset_sha256", "demo_dataset", "generate", "techcorp_tables"]
