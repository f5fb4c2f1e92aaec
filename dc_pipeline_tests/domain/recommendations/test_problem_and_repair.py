import numpy as np

from dc_pipeline.domain.recommendations.problem import build_problem
from dc_pipeline.domain.recommendations.repair import repair
from dc_pipeline.domain.settings import OptimizerConfig

from .conftest import metric_rows


def one_metric(score=60.0, best=70.0, cost=1.5, uplift=30):
    rows = metric_rows(1)
    rows[["directed_score", "best_score", "effort_cost", "effective_weight"]] = [score, best, cost, 0.4]
    return build_problem(rows, OptimizerConfig(max_uplift_points=uplift)).problem


def test_bounds_and_gain_follow_the_spec():
    rows = metric_rows(4)
    rows.loc[0, "directed_score"] = 92.0
    problem = build_problem(rows, OptimizerConfig(max_uplift_points=20)).problem
    assert problem.upper[0] == 8.0  # u = min(100, 92 + 20)
    assert np.allclose(problem.upper[1:], 20.0)
    delta = np.array([[1.0, 2.0, 0.0, 3.0]])
    assert problem.gain(delta)[0] == (rows["effective_weight"].to_numpy() * delta[0]).sum()


def test_effort_is_convex_and_rises_past_cohort_best():
    problem = one_metric(score=60.0, best=70.0, cost=1.5)
    grid = np.linspace(0, 30, 3001)[:, None]
    effort = problem.effort(grid)
    assert np.all(np.diff(effort) > 0)
    assert np.all(np.diff(effort, 2) >= -1e-9)  # convex
    slope = np.diff(effort) / np.diff(grid[:, 0])
    before, after = slope[grid[:-1, 0] < 10].max(), slope[grid[:-1, 0] >= 10].min()
    assert after - before > 1.5 - 1e-6  # the surcharge adds c_m per point past best_m (t = 70)
    # closed form at Δ = 15: c(Δ + Δ²/(101 − s)) + c·(75 − 70)
    assert np.isclose(problem.effort(np.array([[15.0]]))[0], 1.5 * (15 + 225 / 41) + 1.5 * 5)


def test_metrics_that_cannot_move_the_score_are_excluded():
    rows = metric_rows(5)
    rows.loc[0, "directed_score"] = 100.0
    rows.loc[1, "effective_weight"] = 0.0
    rows.loc[2, "directed_score"] = np.nan
    build = build_problem(rows, OptimizerConfig())
    assert build.problem.n_metrics == 2
    assert build.excluded == {
        "directed score missing or outside [0, 100]": 1,
        "effective weight not positive": 1,
        "already at 100": 1,
    }


def test_repair_keeps_at_most_k_changed_metrics_with_best_ratios():
    rows = metric_rows(6, seed=4)
    problem = build_problem(rows, OptimizerConfig(max_metrics_changed=2)).problem
    rng = np.random.default_rng(0)
    population = rng.uniform(0.5, 20, (40, 6))
    population[0, 3] = 0.2  # below the change threshold: not counted, left alone
    repaired = repair(population, problem)
    assert ((repaired >= 0.5).sum(axis=1) <= 2).all()
    assert repaired[0, 3] == 0.2
    for before, after in zip(population, repaired):
        ratio = problem.gain_per_metric(before) / problem.effort_per_metric(before)
        changed = np.flatnonzero(before >= 0.5)
        best = changed[np.argsort(-ratio[changed])[:2]]
        assert set(np.flatnonzero(after >= 0.5)) == set(best)
        assert np.array_equal(after[best], before[best])


def test_repair_clips_to_bounds_and_leaves_feasible_rows_alone():
    problem = build_problem(metric_rows(3), OptimizerConfig(max_metrics_changed=3)).problem
    x = np.array([[-1.0, 5.0, 99.0], [1.0, 2.0, 3.0]])
    repaired = repair(x, problem)
    assert np.array_equal(repaired[0], [0.0, 5.0, problem.upper[2]])
    assert np.array_equal(repaired[1], x[1])
