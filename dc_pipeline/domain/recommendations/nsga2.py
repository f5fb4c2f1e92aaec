"""NSGA-II on real genes (SPEC §6c), vectorised with numpy and driven by one seeded Generator.

Objectives are minimised: (−ΔDC, E). Binary tournament on (rank, crowding), SBX crossover,
polynomial mutation, repair, elitist merge of parents and offspring.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from dc_pipeline.domain.recommendations.problem import DecisionProblem
from dc_pipeline.domain.recommendations.repair import repair


@dataclass(frozen=True)
class GaParams:
    population: int
    generations: int
    crossover_prob: float
    crossover_eta: float
    mutation_prob: float  # per gene
    mutation_eta: float

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    index: int  # 0 = initial population
    population: np.ndarray  # (N, M) genes Δ
    objectives: np.ndarray  # (N, 2) (−ΔDC, E)
    ranks: np.ndarray  # (N,) non-domination rank, 0 = first front


def non_dominated_ranks(objectives: np.ndarray) -> np.ndarray:
    """Non-dominated sorting: rank 0 for the first front, 1 for the next, ..."""
    f = np.asarray(objectives, dtype=float)
    if f.ndim == 2 and f.shape[1] == 2:
        return _ranks_two_objectives(f)
    return _ranks_by_dominance_matrix(f)


def _ranks_by_dominance_matrix(f: np.ndarray) -> np.ndarray:
    """Fast non-dominated sort (Deb) on the full dominance matrix, any number of objectives."""
    n = f.shape[0]
    dominates = (f[:, None, :] <= f[None, :, :]).all(axis=2) & (f[:, None, :] < f[None, :, :]).any(axis=2)
    counts = dominates.sum(axis=0)
    ranks = np.full(n, -1, dtype=int)
    current = np.flatnonzero(counts == 0)
    rank = 0
    while current.size:
        ranks[current] = rank
        counts = counts - dominates[current].sum(axis=0)
        counts[ranks >= 0] = -1
        current = np.flatnonzero(counts == 0)
        rank += 1
    return ranks


def _ranks_two_objectives(f: np.ndarray) -> np.ndarray:
    """O(n log n) sweep for two objectives (the dominance matrix is O(n²) per front and dominated run time).

    In lexicographic order every dominator of a point comes before it, and a point is dominated by
    front k exactly when the smallest second objective seen in front k is <= its own; those minima
    rise with k, so the point's rank is a binary search. Equal points share a rank.
    """
    order = np.lexsort((f[:, 1], f[:, 0]))
    first, second = f[order, 0], f[order, 1]
    ranks_sorted = np.empty(order.size, dtype=int)
    front_min: list[float] = []
    for i in range(order.size):
        if i and first[i] == first[i - 1] and second[i] == second[i - 1]:
            ranks_sorted[i] = ranks_sorted[i - 1]
            continue
        k = bisect.bisect_right(front_min, second[i])
        if k == len(front_min):
            front_min.append(second[i])
        else:
            front_min[k] = second[i]  # bisect_right guarantees second[i] < front_min[k]
        ranks_sorted[i] = k
    ranks = np.empty_like(ranks_sorted)
    ranks[order] = ranks_sorted
    return ranks


def crowding_distance(objectives: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Crowding distance within each front; the ends of every front get +inf."""
    f = np.asarray(objectives, dtype=float)
    distance = np.zeros(f.shape[0])
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        if members.size <= 2:
            distance[members] = np.inf
            continue
        for j in range(f.shape[1]):
            values = f[members, j]
            order = np.argsort(values, kind="stable")
            sorted_values = values[order]
            span = sorted_values[-1] - sorted_values[0]
            gap = np.zeros(members.size)
            gap[0] = gap[-1] = np.inf
            if span > 0:
                gap[1:-1] = (sorted_values[2:] - sorted_values[:-2]) / span
            distance[members[order]] += gap
    return distance


def tournament(rng: np.random.Generator, ranks: np.ndarray, crowding: np.ndarray, n: int) -> np.ndarray:
    """Binary tournament: lower rank wins, then larger crowding distance, then the first drawn."""
    a = rng.integers(0, ranks.size, n)
    b = rng.integers(0, ranks.size, n)
    a_wins = (ranks[a] < ranks[b]) | ((ranks[a] == ranks[b]) & (crowding[a] >= crowding[b]))
    return np.where(a_wins, a, b)


def sbx_crossover(
    rng: np.random.Generator, p1: np.ndarray, p2: np.ndarray, upper: np.ndarray, prob: float, eta: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bounded simulated binary crossover (Deb & Agrawal) on genes in [0, upper]."""
    lower = np.zeros_like(upper)
    pairs, m = p1.shape
    apply = (rng.random(pairs) < prob)[:, None] & (rng.random((pairs, m)) < 0.5) & (np.abs(p1 - p2) > 1e-12)
    y1, y2 = np.minimum(p1, p2), np.maximum(p1, p2)
    spread = np.where(apply, y2 - y1, 1.0)
    u = rng.random((pairs, m))

    def betaq(beta: np.ndarray) -> np.ndarray:
        alpha = 2.0 - beta ** -(eta + 1.0)
        return np.where(
            u <= 1.0 / alpha,
            (u * alpha) ** (1.0 / (eta + 1.0)),
            (1.0 / np.maximum(2.0 - u * alpha, 1e-300)) ** (1.0 / (eta + 1.0)),
        )

    c1 = 0.5 * (y1 + y2 - betaq(1.0 + 2.0 * (y1 - lower) / spread) * spread)
    c2 = 0.5 * (y1 + y2 + betaq(1.0 + 2.0 * (upper - y2) / spread) * spread)
    c1, c2 = np.clip(c1, lower, upper), np.clip(c2, lower, upper)
    swap = rng.random((pairs, m)) < 0.5
    c1, c2 = np.where(swap, c2, c1), np.where(swap, c1, c2)
    return np.where(apply, c1, p1), np.where(apply, c2, p2)


def polynomial_mutation(
    rng: np.random.Generator, x: np.ndarray, upper: np.ndarray, prob: float, eta: float
) -> np.ndarray:
    """Bounded polynomial mutation (Deb), each gene mutated with probability `prob`."""
    mutate = rng.random(x.shape) < prob
    r = rng.random(x.shape)
    d1 = x / upper
    d2 = (upper - x) / upper
    power = 1.0 / (eta + 1.0)
    low = 2.0 * r + (1.0 - 2.0 * r) * (1.0 - d1) ** (eta + 1.0)
    high = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * (1.0 - d2) ** (eta + 1.0)
    deltaq = np.where(r < 0.5, np.maximum(low, 0.0) ** power - 1.0, 1.0 - np.maximum(high, 0.0) ** power)
    return np.where(mutate, np.clip(x + deltaq * upper, 0.0, upper), x)


def initial_population(rng: np.random.Generator, problem: DecisionProblem, size: int) -> np.ndarray:
    """Random uplifts at random overall levels, plus the two ends: no change and the largest gain."""
    level = rng.random((size, 1))
    x = problem.upper * level * rng.random((size, problem.n_metrics))
    x[0] = 0.0
    if size > 1:
        # Largest-gain individual under the K constraint: the K metrics with the largest e_m·U_m at U_m.
        top = np.argsort(-(problem.weight * problem.upper), kind="stable")[: problem.max_changed]
        x[1] = 0.0
        x[1, top] = problem.upper[top]
    return repair(x, problem)


def _select_survivors(objectives: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ranks = non_dominated_ranks(objectives)
    crowding = crowding_distance(objectives, ranks)
    order = np.lexsort((-crowding, ranks))[:size]
    return order, ranks[order], crowding[order]


def evolve(problem: DecisionProblem, params: GaParams, seed: int) -> Iterator[Generation]:
    """Yield the population after initialisation and after each of params.generations generations."""
    rng = np.random.default_rng(seed)
    n = params.population
    x = initial_population(rng, problem, n)
    f = problem.evaluate(x)
    ranks = non_dominated_ranks(f)
    crowding = crowding_distance(f, ranks)
    yield Generation(0, x, f, ranks)
    half = (n + 1) // 2
    for generation in range(1, params.generations + 1):
        parents = tournament(rng, ranks, crowding, 2 * half)
        c1, c2 = sbx_crossover(
            rng, x[parents[:half]], x[parents[half:]], problem.upper, params.crossover_prob, params.crossover_eta
        )
        children = np.vstack([c1, c2])[:n]
        children = polynomial_mutation(rng, children, problem.upper, params.mutation_prob, params.mutation_eta)
        children = repair(children, problem)
        merged_x = np.vstack([x, children])
        merged_f = np.vstack([f, problem.evaluate(children)])
        keep, ranks, crowding = _select_survivors(merged_f, n)
        x, f = merged_x[keep], merged_f[keep]
        yield Generation(generation, x, f, ranks)


def run_nsga2(problem: DecisionProblem, params: GaParams, seed: int) -> Generation:
    """The final generation."""
    last = None
    for generation in evolve(problem, params, seed):
        last = generation
    return last
