"""Optuna tuning of the GA's own parameters (SPEC §6c, §6d).

Objective: normalised hypervolume of the final front averaged over 2 seeds. The two runs advance
in lockstep so that the mean hypervolume at every 20 % generation checkpoint can be reported for
pruning.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import optuna

from dc_pipeline.domain.recommendations.hypervolume import hypervolume
from dc_pipeline.domain.recommendations.nsga2 import GaParams, Generation, evolve
from dc_pipeline.domain.recommendations.problem import DecisionProblem
from dc_pipeline.domain.tuning import StudySummary, TuningSettings, in_memory_study, optimize

N_SEEDS = 2
N_CHECKPOINTS = 5  # every 20 % of the generations
POPULATION_RANGE = (20, 200)
MIN_GENERATIONS = 20
MUTATIONS_PER_GENOME = (0.5, 3.0)  # p_m ∈ [0.5/|M|, 3/|M|]

StudyFactory = Callable[[str, str], optuna.Study]


def population_bounds(max_evaluations: int) -> tuple[int, int]:
    """N ∈ [20, 200], capped so that at least 20 generations fit in the evaluation budget."""
    return POPULATION_RANGE[0], max(POPULATION_RANGE[0], min(POPULATION_RANGE[1], max_evaluations // MIN_GENERATIONS))


def params_from_values(values: dict, n_metrics: int) -> GaParams:
    return GaParams(
        population=int(values["population"]),
        generations=int(values["generations"]),
        crossover_prob=float(values["crossover_prob"]),
        crossover_eta=float(values["crossover_eta"]),
        mutation_prob=min(1.0, float(values["mutations_per_genome"]) / n_metrics),
        mutation_eta=float(values["mutation_eta"]),
    )


def default_values(max_evaluations: int) -> dict:
    """Deb's usual settings, spending the whole evaluation budget at N = 100 (or the cap)."""
    population = min(100, population_bounds(max_evaluations)[1])
    return {
        "population": population,
        "generations": max(MIN_GENERATIONS, max_evaluations // population),
        "crossover_prob": 0.9,
        "crossover_eta": 15.0,
        "mutations_per_genome": 1.0,
        "mutation_eta": 20.0,
    }


def suggest_values(trial: optuna.Trial, max_evaluations: int) -> dict:
    low, high = population_bounds(max_evaluations)
    population = trial.suggest_int("population", low, high)
    return {
        "population": population,
        "generations": trial.suggest_int(
            "generations", MIN_GENERATIONS, max(MIN_GENERATIONS, max_evaluations // population)
        ),
        "crossover_prob": trial.suggest_float("crossover_prob", 0.6, 0.95),
        "crossover_eta": trial.suggest_float("crossover_eta", 2.0, 30.0),
        "mutations_per_genome": trial.suggest_float("mutations_per_genome", *MUTATIONS_PER_GENOME),
        "mutation_eta": trial.suggest_float("mutation_eta", 5.0, 50.0),
    }


def front_hypervolume(problem: DecisionProblem, generation: Generation) -> float:
    first = generation.ranks == 0
    f = generation.objectives[first]
    return hypervolume(-f[:, 0], f[:, 1], problem.max_gain, problem.reference_effort)


def checkpoint_generations(generations: int) -> list[int]:
    return [math.ceil(generations * k / N_CHECKPOINTS) for k in range(1, N_CHECKPOINTS + 1)]


def mean_hypervolume(
    problem: DecisionProblem, params: GaParams, seed: int, report: Callable[[int, float], None] | None = None
) -> float:
    """Final normalised hypervolume averaged over seeds seed, seed+1, ...; `report(step, hv)` at checkpoints."""
    checkpoints = checkpoint_generations(params.generations)
    runs = [evolve(problem, params, seed + i) for i in range(N_SEEDS)]
    latest = 0.0
    for generations in zip(*runs):
        index = generations[0].index
        if index in checkpoints:
            latest = float(np.mean([front_hypervolume(problem, g) for g in generations]))
            if report is not None:
                report(checkpoints.index(index) + 1, latest)
    return latest


def tune_ga(
    problem: DecisionProblem,
    *,
    max_evaluations: int,
    settings: TuningSettings,
    name: str,
    seed: int,
    study_factory: StudyFactory | None = None,
) -> tuple[GaParams, StudySummary]:
    """Tune the GA on this problem; returns the best parameters (the defaults if no trial completed)."""
    values, summary = tune_ga_values(
        problem, max_evaluations=max_evaluations, settings=settings, name=name, seed=seed, study_factory=study_factory
    )
    return params_from_values(values, problem.n_metrics), summary


def tune_ga_values(
    problem: DecisionProblem,
    *,
    max_evaluations: int,
    settings: TuningSettings,
    name: str,
    seed: int,
    study_factory: StudyFactory | None = None,
) -> tuple[dict, StudySummary]:
    """`tune_ga` in the problem-free form of `suggest_values` (mutations per genome, not per gene), so the
    parameters can run the GA on another problem of the same shape (`params_from_values(values, n_metrics)`)."""
    study = (
        study_factory(name, "maximize")
        if study_factory is not None
        else in_memory_study(name, "maximize", settings, n_metrics=problem.n_metrics)
    )

    def objective(trial: optuna.Trial) -> float:
        params = params_from_values(suggest_values(trial, max_evaluations), problem.n_metrics)

        def report(step: int, value: float) -> None:
            trial.report(value, step)
            if step < N_CHECKPOINTS and trial.should_prune():
                raise optuna.TrialPruned(f"hypervolume {value:.4f} at checkpoint {step}")

        return mean_hypervolume(problem, params, seed, report)

    defaults = default_values(max_evaluations)
    summary = optimize(study, objective, settings, default_params=defaults)
    return ({**defaults, **summary.best_params} if summary.best_params else defaults), summary
