"""Data quality (SPEC §5): rules, quarantine decisions and DQ scores, as pure pandas / numpy code
over all projects of a run at once."""

from dc_pipeline.domain.quality.assessment import QualityAssessment, RunAssessment
from dc_pipeline.domain.quality.scoring import band_of
from dc_pipeline.domain.quality.validate import assess_project, assess_run

__all__ = ["QualityAssessment", "RunAssessment", "assess_project", "assess_run", "band_of"]
