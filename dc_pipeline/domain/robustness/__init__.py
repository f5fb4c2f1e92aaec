"""Index robustness (SPEC §9): how much the DC ranking depends on weights and aggregation choices.

Pure computation per (project, period): Monte Carlo weights (`monte_carlo`), the geometric-mean
aggregation and leave-one-section-out (`alternatives`), effective vs nominal weights and
correlation-based importance (`weights`), Sobol indices of the section weights (`sobol`), and the
report-health reasons they give (`health`).
"""

from dc_pipeline.domain.robustness.alternatives import (
    DRIVER_COLUMNS,
    GEOMETRIC_COLUMNS,
    LOSO_COLUMNS,
    geometric_mean_ranks,
    leave_one_section_out,
    ranking_driver,
    section_rank_sensitivity,
)
from dc_pipeline.domain.robustness.health import tier_band_reasons
from dc_pipeline.domain.robustness.monte_carlo import (
    MONTE_CARLO_COLUMNS,
    ScoreMatrix,
    crossed_boundaries,
    draw_dc_scores,
    monte_carlo_weight_ranks,
    ranks_per_draw,
    score_matrices,
)
from dc_pipeline.domain.robustness.sobol import SOBOL_COLUMNS, sobol_indices, sobol_section_weights
from dc_pipeline.domain.robustness.weights import (
    CORRELATION_COLUMNS,
    WEIGHT_COLUMNS,
    effective_vs_nominal_weights,
    nominal_metric_weights,
    section_dc_correlations,
)

__all__ = [
    "CORRELATION_COLUMNS",
    "DRIVER_COLUMNS",
    "GEOMETRIC_COLUMNS",
    "LOSO_COLUMNS",
    "MONTE_CARLO_COLUMNS",
    "SOBOL_COLUMNS",
    "WEIGHT_COLUMNS",
    "ScoreMatrix",
    "crossed_boundaries",
    "draw_dc_scores",
    "effective_vs_nominal_weights",
    "geometric_mean_ranks",
    "leave_one_section_out",
    "monte_carlo_weight_ranks",
    "nominal_metric_weights",
    "ranking_driver",
    "ranks_per_draw",
    "score_matrices",
    "section_dc_correlations",
    "section_rank_sensitivity",
    "sobol_indices",
    "sobol_section_weights",
    "tier_band_reasons",
]
