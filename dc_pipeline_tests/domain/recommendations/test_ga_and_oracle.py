import numpy as np

from dc_pipeline.domain.recommendations.hypervolume import hypervolume
from dc_pipeline.domain.recommendations.nsga2 import GaParams, crowding_distance, non_dominated_ranks, run_nsga2
from dc_pipeline.domain.recommendations.oracle import water_filling_front
from dc_pipeline.domain.recommendations.problem import build_problem
from dc_pipeline.domain.recommendations.tune import mean_hypervolume
from dc_pipeline.domain.settings import OptimizerConfig

from .conftest import metric_rows


def test_non_dominated_sort_and_crowding():
    f = np.array([[0, 3], [1, 1], [3, 0], [2, 2], [3, 3], [1, 1]], dtype=float)
    ranks = non_dominated_ranks(f)
    assert ranks.tolist() == [0, 0, 0, 1, 2, 0]
    crowd = crowding_distance(f, ranks)
    assert np.isinf(crowd[[0, 2]]).all() and np.isfinite(crowd[1])


def test_hypervolume_of_one_point_is_its_rectangle():
    assert np.isclose(hypervolume(np.array([2.0]), np.array([3.0]), 4.0, 10.0), (10 - 3) * 2 / 40)
    # a dominated point adds nothing
    assert np.isclose(hypervolume(np.array([2.0, 1.0]), np.array([3.0, 5.0]), 4.0, 10.0), 14 / 40)


def test_oracle_is_the_exact_front_on_the_grid():
    rows = metric_rows(2, seed=5)
    problem = build_problem(rows, OptimizerConfig(max_uplift_points=6)).problem
    oracle = water_filling_front(problem)
    grid = np.round(np.arange(0, 6.0001, 0.1), 10)
    d1, d2 = np.meshgrid(grid, grid, indexing="ij")
    combos = np.column_stack([d1.ravel(), d2.ravel()])
    gain, effort = problem.gain(combos), problem.effort(combos)
    order = np.argsort(effort)
    best_gain = np.maximum.accumulate(gain[order])
    # no grid allocation reaches more gain at no more effort than an oracle point
    reachable = best_gain[np.searchsorted(effort[order], oracle.effort + 1e-9, side="right") - 1]
    assert np.all(reachable <= oracle.gain + 1e-9)
    assert np.isclose(oracle.gain[-1], problem.max_gain) and np.isclose(oracle.effort[-1], problem.reference_effort)


def test_seeded_ga_is_deterministic():
    problem = build_problem(metric_rows(5), OptimizerConfig()).problem
    params = GaParams(30, 20, 0.9, 15, 0.2, 20)
    a, b = run_nsga2(problem, params, 11), run_nsga2(problem, params, 11)
    assert np.array_equal(a.population, b.population)
    assert not np.array_equal(a.population, run_nsga2(problem, params, 12).population)


def test_checkpoint_hypervolumes_are_reported_every_20_percent():
    problem = build_problem(metric_rows(5), OptimizerConfig()).problem
    reports = []
    final = mean_hypervolume(problem, GaParams(20, 20, 0.9, 15, 0.2, 20), 0, lambda s, v: reports.append((s, v)))
    assert [s for s, _ in reports] == [1, 2, 3, 4, 5]
    assert reports[-1][1] == final
    assert reports[0][1] <= final  # elitism never loses front area


def test_two_objective_sweep_matches_the_dominance_matrix_sort():
    from dc_pipeline.domain.recommendations.nsga2 import _ranks_by_dominance_matrix

    rng = np.random.default_rng(1)
    for _ in range(100):
        f = rng.integers(0, 6, (int(rng.integers(1, 40)), 2)).astype(float)  # many ties and duplicates
        assert np.array_equal(non_dominated_ranks(f), _ranks_by_dominance_matrix(f))
