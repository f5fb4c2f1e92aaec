"""Recommendation optimizer (SPEC §6c): NSGA-II over bounded metric targets, tuned by Optuna.

Import from the modules (`recommend`, `effort`, ...): the package itself stays light, so the effort function
does not pull in Optuna."""
