"""Score->outcome models (SPEC §6a): DC and section scores predicting one business outcome,
tuned with Optuna over time-ordered cross-validation."""

from dc_pipeline.domain.outcome_models.fit import OutcomeModelResult, fit_outcome_model

__all__ = ["OutcomeModelResult", "fit_outcome_model"]
