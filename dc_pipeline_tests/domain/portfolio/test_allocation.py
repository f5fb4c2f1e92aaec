"""Effort allocation against independent optima: a linear programme over convex combinations of the raw plan
points, and a brute force over every combination of plans."""

from itertools import product

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from dc_pipeline.domain.portfolio.allocation import (
    NO_CHANGE,
    allocate,
    effort_allocation,
    upper_concave_envelope,
    value_weights,
)


def _random_fronts(rng, n_brands=3, n_points=5):
    """Pareto-like fronts (effort rising, gain rising) that are not concave, so the envelope matters."""
    fronts = {}
    for b in range(1, n_brands + 1):
        effort = np.cumsum(rng.uniform(1, 10, n_points))
        gain = np.cumsum(rng.uniform(0.1, 3, n_points))
        fronts[b] = (effort, gain, np.arange(n_points))
    return fronts


def _lp_optimum(fronts, values, budget) -> float:
    """max Σ v_b Σ_k λ_bk G_bk s.t. Σ_k λ_bk <= 1 (the rest on the do-nothing point), Σ λ E <= budget."""
    gains, efforts, rows = [], [], []
    for i, (b, (e, g, _)) in enumerate(fronts.items()):
        gains += list(values[b] * g)
        efforts += list(e)
        rows += [i] * len(e)
    n = len(gains)
    a_ub = [efforts] + [[1.0 if rows[j] == i else 0.0 for j in range(n)] for i in range(len(fronts))]
    b_ub = [budget] + [1.0] * len(fronts)
    res = linprog(-np.array(gains), A_ub=a_ub, b_ub=b_ub, bounds=[(0, None)] * n, method="highs")
    assert res.status == 0
    return -res.fun


def _brute_force(fronts, values, budget) -> float:
    """Best Σ v_b G_b over every choice of one plan (or none) per brand within the budget."""
    options = [[(0.0, 0.0)] + list(zip(e, g)) for e, g, _ in fronts.values()]
    weights = [values[b] for b in fronts]
    best = 0.0
    for choice in product(*options):
        if sum(e for e, _ in choice) <= budget + 1e-9:
            best = max(best, sum(w * g for w, (_, g) in zip(weights, choice)))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_envelope_covers_every_plan_and_is_concave(seed):
    e, g, ids = _random_fronts(np.random.default_rng(seed), 1, 7)[1]
    hull = upper_concave_envelope(e, g, ids)
    assert (hull[0].effort, hull[0].gain, hull[0].plan_id) == (0.0, 0.0, NO_CHANGE)
    slopes = [(b.gain - a.gain) / (b.effort - a.effort) for a, b in zip(hull, hull[1:])]
    assert all(s > 0 for s in slopes) and all(x > y for x, y in zip(slopes, slopes[1:]))
    he, hg = [v.effort for v in hull], [v.gain for v in hull]
    for x, y in zip(e, g):  # no plan lies above the envelope
        assert y <= np.interp(x, he, hg) + 1e-9 if x <= he[-1] else y <= hg[-1] + 1e-9
    assert {v.plan_id for v in hull[1:]} <= set(ids)


@pytest.mark.parametrize("seed", range(12))
def test_allocation_equals_the_linear_programme_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    fronts = _random_fronts(rng)
    values = {b: float(rng.uniform(0.1, 1)) for b in fronts}
    budget = float(rng.uniform(5, 40))
    envelopes = {b: upper_concave_envelope(*f) for b, f in fronts.items()}
    got = allocate(envelopes, values, budget)
    objective = sum(values[b] * got[b]["delta_dc"] for b in fronts)
    assert objective == pytest.approx(_lp_optimum(fronts, values, budget), rel=1e-9, abs=1e-9)
    assert sum(r["effort"] for r in got.values()) <= budget + 1e-9
    # The greedy never does worse than the best pure combination of plans (mixing can only help).
    assert objective >= _brute_force(fronts, values, budget) - 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_allocation_equals_brute_force_when_the_budget_ends_on_vertices(seed):
    rng = np.random.default_rng(200 + seed)
    fronts = _random_fronts(rng)
    values = {b: float(rng.uniform(0.1, 1)) for b in fronts}
    envelopes = {b: upper_concave_envelope(*f) for b, f in fronts.items()}
    budgets = {sum(v.effort for v in choice) for choice in product(*envelopes.values())}
    checked = 0
    for budget in sorted(budgets):
        got = allocate(envelopes, values, budget)
        if any(r["fraction_to_next"] for r in got.values()):
            continue  # the greedy stops inside a segment: a mix of two plans, beyond a pure choice
        objective = sum(values[b] * got[b]["delta_dc"] for b in fronts)
        assert objective == pytest.approx(_brute_force(fronts, values, budget), rel=1e-9)
        checked += 1
    assert checked >= 4


def test_value_weights_with_and_without_revenue():
    members = pd.DataFrame({"brand_id": [1, 2, 3], "weight": [1.0, 2.0, 1.0]})
    w, basis = value_weights(members, pd.Series({1: 10.0, 2: 30.0, 3: 60.0}))
    assert w["value_weight"].tolist() == pytest.approx([0.1, 0.6, 0.6])
    assert basis == "project_brands.weight x revenue share in the latest period"
    w, basis = value_weights(members, pd.Series({1: 10.0}))
    assert w["value_weight"].tolist() == pytest.approx([1 / 3, 2 / 3, 1 / 3])
    assert basis == "project_brands.weight x 1/3: revenue missing for 2 of 3 brands in the latest period"


def test_effort_allocation_defaults_to_the_knee_budget_and_names_brands_without_plans():
    plans = pd.DataFrame(
        {"brand_id": [1, 1, 1, 2, 2], "plan_id": [0, 1, 2, 0, 1], "effort": [2.0, 5.0, 12.0, 3.0, 9.0],
         "delta_dc": [1.0, 2.0, 2.5, 0.5, 2.0], "is_knee": [False, True, False, True, False]}
    )  # fmt: skip
    summaries = pd.DataFrame({"brand_id": [3], "status": ["insufficient_data"], "reason": ["no improvable metrics"]})
    members = pd.DataFrame({"brand_id": [1, 2, 3], "weight": [1.0, 1.0, 1.0]})
    frame, summary = effort_allocation(members, pd.Series(dtype=float), plans, summaries)
    assert summary["budget"] == pytest.approx(5.0 + 3.0) and summary["budget_source"] == "sum of knee-plan efforts"
    assert summary["spent"] == pytest.approx(8.0)
    rows = frame.set_index("brand_id")
    assert rows.at[3, "status"] == "insufficient_data" and rows.at[3, "reason"] == "no improvable metrics"
    assert rows["share_pct"].sum() == pytest.approx(100.0)
    assert summary["value_weighted_delta_dc"] == pytest.approx(rows["delta_dc"].fillna(0).sum() / 3)
