"""Multi-brand and multi-project analysis (SPEC §8): cross-brand comparison, cross-project evolution,
synergy, complementarity, transfer pairs and effort allocation. Pure computation on frames."""
