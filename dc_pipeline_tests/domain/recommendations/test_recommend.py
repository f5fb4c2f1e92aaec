import math

import numpy as np
import pytest

from dc_pipeline.domain.recommendations.nsga2 import non_dominated_ranks
from dc_pipeline.domain.recommendations.tune import MIN_GENERATIONS
from dc_pipeline.domain.settings import OptimizerConfig

from .conftest import FAST_CONFIG, metric_rows, run


def test_ga_front_reaches_97_percent_of_the_oracle_hypervolume(small_result):
    _, result = small_result
    assert result.status == "ok" and result.n_metrics == 6
    assert result.oracle_hypervolume_ratio >= 0.97
    assert result.oracle_hypervolume_ratio <= 1.01  # the oracle is the exact front (up to the grid)


def test_plan_gain_is_exactly_the_weighted_sum_of_uplifts(small_result):
    rows, result = small_result
    weight = dict(zip(rows["metric_id"], rows["effective_weight"]))
    assert 1 <= len(result.plans) <= 50
    for plan in result.plans:
        exact = sum(weight[m["metric_id"]] * m["delta"] for m in plan["metrics"])
        assert abs(plan["delta_dc"] - exact) <= 1e-9
        assert abs(plan["effort"] - sum(m["effort"] for m in plan["metrics"])) <= 1e-9
        for m in plan["metrics"]:
            assert m["target"] - m["current"] == pytest.approx(m["delta"], abs=1e-12)
            assert 0 < m["delta"] <= 20 + 1e-12 and m["target"] <= 100


def test_front_is_non_dominated_and_knee_lies_on_it(small_result):
    _, result = small_result
    g, e = result.front_delta_dc, result.front_effort
    assert (non_dominated_ranks(np.column_stack([-g, e])) == 0).all()
    knee = result.knee
    on_front = np.flatnonzero(np.isclose(g, knee["delta_dc"], atol=1e-12) & np.isclose(e, knee["effort"], atol=1e-12))
    assert on_front.size == 1
    # farthest from the chord between the ends, in range-normalised units
    gn, en = (g - g.min()) / np.ptp(g), (e - e.min()) / np.ptp(e)
    distance = np.abs((en[-1] - en[0]) * (gn - gn[0]) - (gn[-1] - gn[0]) * (en - en[0]))
    assert on_front[0] == np.argmax(distance)
    assert 0 < knee["delta_dc"] < g.max()


def test_targets_are_the_cheapest_front_plans_reaching_them(small_result):
    _, result = small_result
    g, e = result.front_delta_dc, result.front_effort
    for target in (1, 3, 5):
        plan = result.targets[target]
        assert isinstance(plan, dict)
        assert plan["delta_dc"] >= target
        assert plan["effort"] == e[g >= target].min()
        assert plan in result.plans


def test_unreachable_target_gives_the_statement_with_the_computed_max():
    rows = metric_rows(5, seed=2)
    result = run(rows, config=OptimizerConfig(max_uplift_points=4, ga_max_evaluations=1000), seed=1)
    best = result.front_delta_dc.max()
    assert best < 5 and best <= result.max_delta_dc + 1e-9
    statement = f"not reachable within bounds: max +{math.floor(best * 10) / 10:.1f}"
    assert result.targets[5] == statement
    assert isinstance(result.targets[1], dict)


def test_recommendation_is_deterministic_for_a_seed():
    rows = metric_rows(5, seed=9)
    config = OptimizerConfig(ga_max_evaluations=800)
    a, b = run(rows, config=config, seed=5), run(rows, config=config, seed=5)
    assert a.plans == b.plans and a.targets == b.targets and a.ga_params == b.ga_params
    assert np.array_equal(a.front_effort, b.front_effort)


def test_cardinality_limit_holds_in_every_plan_and_disables_the_oracle():
    rows = metric_rows(10, seed=6)
    result = run(rows, config=OptimizerConfig(max_metrics_changed=3, ga_max_evaluations=800), seed=2)
    assert result.status == "ok" and result.oracle_hypervolume_ratio is None
    assert all(sum(m["delta"] >= 0.5 for m in p["metrics"]) <= 3 for p in result.plans)
    assert 20 <= result.ga_params["population"] and MIN_GENERATIONS <= result.ga_params["generations"]
    assert result.ga_params["population"] * result.ga_params["generations"] <= 800


def test_restricted_sections_only_change_those_metrics():
    rows = metric_rows(8, seed=1)
    result = run(rows, config=OptimizerConfig(ga_max_evaluations=800), seed=0, restrict_sections=["Marketplace"])
    assert result.n_metrics == 4
    assert {m["section_name"] for p in result.plans for m in p["metrics"]} == {"Marketplace"}


def test_outcome_change_only_when_the_model_is_validated():
    rows = metric_rows(4, seed=3)
    config = OptimizerConfig(ga_max_evaluations=600)
    per_point = {"validated": True, "estimate": 2.0, "ci_low": 1.0, "ci_high": 3.5, "outcome": "revenue", "level": 0.95}
    validated = run(rows, config=config, outcome_per_dc_point=per_point)
    for plan in validated.plans:
        change = plan["outcome_change"]
        assert change["estimate"] == pytest.approx(2.0 * plan["delta_dc"])
        assert change["ci_low"] == pytest.approx(1.0 * plan["delta_dc"])
        assert change["ci_high"] == pytest.approx(3.5 * plan["delta_dc"])
    unvalidated = run(rows, config=config, outcome_per_dc_point=per_point | {"validated": False})
    assert all("outcome_change" not in p for p in unvalidated.plans)


def test_missing_data_statuses():
    rows = metric_rows(3)
    # an empty frame cannot name its brand: the caller does
    empty = run(rows.iloc[0:0], config=FAST_CONFIG, brand_id=7)
    assert (empty.status, empty.reason) == ("insufficient_data", "no metrics for brand 7 in the latest period")
    no_section = run(rows, config=FAST_CONFIG, restrict_sections=["Digital Spends"])
    assert no_section.status == "insufficient_data"
    assert no_section.reason == "no metrics in sections Digital Spends for brand 7 in the latest period"
    no_column = run(rows.drop(columns=["best_score"]), config=FAST_CONFIG)
    assert no_column.status == "missing_input" and "best_score" in no_column.reason
    at_ceiling = rows.assign(directed_score=100.0)
    ceiling = run(at_ceiling, config=FAST_CONFIG)
    assert ceiling.status == "insufficient_data" and "3 already at 100" in ceiling.reason
