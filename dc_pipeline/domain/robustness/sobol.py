"""Sobol indices of the section weights on the mean absolute rank shift (SPEC §9, optional).

Each section's weight is multiplied by a factor drawn from U(1 - noise, 1 + noise), the noise of the
Monte Carlo weights. The output is the mean over ranked brands of |rank - nominal rank|. SALib draws
Saltelli's design (N (K + 2) evaluations for K sections, N = 256) and estimates the first-order
index S1 (the share of the output's variance due to one section's weight alone) and the total
index ST (including its interactions), each with a bootstrap 95 % confidence half-width. All
evaluations of a (project, period) are one vectorised `draw_dc_scores` call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from dc_pipeline.domain.robustness.monte_carlo import (
    DRAW_BATCH,
    ScoreMatrix,
    draw_dc_scores,
    ranks_per_draw,
    score_matrices,
)
from dc_pipeline.domain.settings import ScoringConfig

SOBOL_N = 256  # SPEC §9; a power of two, as Sobol sequences require
RARE_MOVES = 0.05  # below this share of evaluations that move any rank, the indices rest on a few events
SOBOL_COLUMNS: tuple[str, ...] = (
    "project_id",
    "period",
    "section_name",
    "s1",
    "s1_conf",
    "st",
    "st_conf",
    "n_evaluations",
    "share_moved",
    "status",
    "reason",
)


def sobol_indices(
    model: Callable[[np.ndarray], np.ndarray],
    names: Sequence[str],
    bounds: Sequence[tuple[float, float]],
    n: int = SOBOL_N,
    seed: int = 42,
) -> tuple[pd.DataFrame, np.ndarray]:
    """First-order and total Sobol indices of `model` (rows of inputs -> one output each) over
    independent uniform inputs; the frame has name, s1, s1_conf, st, st_conf, and comes with the
    outputs. Raises ValueError when the output never varies (every index would be 0 / 0)."""
    from SALib.analyze import sobol as analyze  # imported here: SALib pulls in matplotlib
    from SALib.sample import sobol as sample

    problem = {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}
    inputs = sample.sample(problem, n, calc_second_order=False, seed=seed)
    output = np.asarray(model(inputs), dtype=float)
    if np.ptp(output) == 0:
        raise ValueError(f"the output is {output[0]:g} for all {len(output)} evaluations")
    result = analyze.analyze(problem, output, calc_second_order=False, seed=seed)
    frame = pd.DataFrame(
        {
            "name": list(names),
            "s1": result["S1"],
            "s1_conf": result["S1_conf"],
            "st": result["ST"],
            "st_conf": result["ST_conf"],
        }
    )
    return frame, output


def _mean_abs_rank_shift(matrix: ScoreMatrix, config: ScoringConfig) -> Callable[[np.ndarray], np.ndarray]:
    nominal = ranks_per_draw(draw_dc_scores(matrix, matrix.weights[None, :], config))[0]

    def model(factors: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(factors), DRAW_BATCH):
            batch = factors[i : i + DRAW_BATCH]
            weights = np.broadcast_to(matrix.weights, (len(batch), len(matrix.weights)))
            rank = ranks_per_draw(draw_dc_scores(matrix, weights, config, section_factors=batch))
            out.append(np.nanmean(np.abs(rank - nominal[None, :]), axis=1))
        return np.concatenate(out)

    return model


def _rows(
    matrix: ScoreMatrix, status: str, reason: str | None, indices: pd.DataFrame | None, n_eval: int, moved: float
) -> list:
    rows = []
    for k, section in enumerate(matrix.section_names):
        row = {"project_id": matrix.project_id, "period": matrix.period, "section_name": section,
               "n_evaluations": n_eval, "share_moved": moved, "status": status, "reason": reason}  # fmt: skip
        for column in ("s1", "s1_conf", "st", "st_conf"):
            row[column] = float(indices[column].iloc[k]) if indices is not None else np.nan
        rows.append(row)
    return rows


def _one(matrix: ScoreMatrix, config: ScoringConfig, weight_noise: float, n: int, seed: int) -> list[dict]:
    if config.score_method == "unweighted_mean":
        return _rows(matrix, "not_applicable", "score_method unweighted_mean does not use weights", None, 0, np.nan)
    n_ranked = int(np.isfinite(draw_dc_scores(matrix, matrix.weights[None, :], config)).sum())
    n_sections = len(matrix.section_names)
    if n_ranked < 2 or n_sections < 2:
        reason = f"{n_ranked} ranked brands and {n_sections} sections, 2 of each needed"
        return _rows(matrix, "insufficient_data", reason, None, 0, np.nan)
    bounds = [(1.0 - weight_noise, 1.0 + weight_noise)] * n_sections
    try:
        indices, output = sobol_indices(_mean_abs_rank_shift(matrix, config), matrix.section_names, bounds, n, seed)
    except ValueError as exc:  # no rank ever moves: the indices are 0 / 0
        reason = f"ranks never move when section weights vary by ±{weight_noise:.0%}: {exc}"
        return _rows(matrix, "ok", reason, None, n * (n_sections + 2), 0.0)
    moved = float(np.mean(output > 0))
    reason = None
    if moved < RARE_MOVES:
        reason = (
            f"ranks move in {moved:.1%} of {len(output)} evaluations: the indices rest on a few events "
            "(see s1_conf, st_conf)"
        )
    return _rows(matrix, "ok", reason, indices, len(output), moved)


def sobol_section_weights(
    values: pd.DataFrame,
    metrics: pd.DataFrame,
    config: ScoringConfig = ScoringConfig(),
    weight_noise: float = 0.25,
    n: int = SOBOL_N,
    seed: int = 42,
) -> pd.DataFrame:
    """S1 and ST of each section's weight on the mean |rank shift|, per (project, period)."""
    rows = [row for m in score_matrices(values, metrics, config) for row in _one(m, config, weight_noise, n, seed)]
    return pd.DataFrame(rows, columns=list(SOBOL_COLUMNS))
