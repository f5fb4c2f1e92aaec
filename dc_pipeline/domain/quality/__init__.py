"""Data quality (SPEC §5): rules, quarantine decisions and DQ scores, as pure pandas code."""

from dc_pipeline.domain.quality.scoring import band_of
from dc_pipeline.domain.quality.validate import QualityAssessment, assess_project

__all__ = ["QualityAssessment", "assess_project", "band_of"]
