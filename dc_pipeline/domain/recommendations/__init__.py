"""Recommendation optimizer (SPEC §6c): NSGA-II over bounded metric targets, tuned by Optuna."""

from dc_pipeline.domain.recommendations.recommend import RecommendationResult, recommend

__all__ = ["RecommendationResult", "recommend"]
