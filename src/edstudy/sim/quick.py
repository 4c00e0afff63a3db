"""A cohort drawn and taught one strategy in one call, for demos, fallbacks and tests.

:func:`simulate_cohort` is the three steps most small uses of the simulator need (curriculum,
cohort, simulate); studies with several arms, randomization and replications use
:mod:`edstudy.experiment` instead.
"""

from __future__ import annotations

import numpy as np

from edstudy.sim.curriculum import Curriculum, default_curriculum
from edstudy.sim.engine import Budget, Simulation, simulate
from edstudy.sim.population import PopulationSpec, draw_cohort
from edstudy.sim.strategies import Strategy, load_strategy

__all__ = ["simulate_cohort"]

Seed = int | np.random.Generator | np.random.SeedSequence


def simulate_cohort(
    strategy: Strategy | str,
    n_students: int,
    *,
    cohort_seed: Seed,
    seed: Seed,
    population: PopulationSpec | None = None,
    curriculum: Curriculum | None = None,
    budget: Budget | None = None,
) -> Simulation:
    """Draw ``n_students`` students and run them through the curriculum under one strategy.

    Parameters
    ----------
    strategy : Strategy or str
        A strategy, or the name / path of a rule file.
    n_students : int
    cohort_seed, seed : int, SeedSequence or Generator
        Seeds of the cohort and of the simulation (kept apart so the same students can be taught
        again with other random numbers).
    population : PopulationSpec, optional
        Default ``PopulationSpec()``.
    curriculum : Curriculum, optional
        Default: the shipped curriculum.
    budget : Budget, optional

    Returns
    -------
    Simulation
        ``(log, outcomes)``, see :func:`edstudy.sim.simulate`.
    """
    cur = curriculum if curriculum is not None else default_curriculum()
    rules = load_strategy(strategy) if isinstance(strategy, str) else strategy
    cohort = draw_cohort(population or PopulationSpec(), cur, n_students, seed=cohort_seed)
    return simulate(cohort, cur, rules, seed=seed, budget=budget)
