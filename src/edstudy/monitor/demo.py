"""A simulated class to monitor, with a BKT model fitted on last year's simulated cohort.

For demos, the dashboard notebook and tests: :func:`simulated_class` draws two cohorts with
:func:`edstudy.sim.simulate_cohort`, fits :class:`edstudy.bkt.BKT` on the first ("last year") and
replays the second (this year's class) through a :class:`~edstudy.monitor.replay.ResponseReplay`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from edstudy.bkt import BKT
from edstudy.monitor.replay import ResponseReplay
from edstudy.monitor.settings import check_count
from edstudy.sim import Curriculum, default_curriculum, load_strategy, simulate_cohort

__all__ = ["SimulatedClass", "simulated_class"]


@dataclass(frozen=True, eq=False)
class SimulatedClass:
    """A simulated class to monitor, from :func:`simulated_class`.

    Attributes
    ----------
    curriculum : Curriculum
    model : BKT
        Fitted on last year's simulated students (the class itself is not used to fit it).
    replay : ResponseReplay
        This year's complete course, to be revealed step by step.
    log : DataFrame
        The responses in when the dashboard opens (``replay.initial``).
    history : DataFrame
        Last year's log the model was fitted on.
    """

    curriculum: Curriculum
    model: BKT
    replay: ResponseReplay
    log: pd.DataFrame
    history: pd.DataFrame


def simulated_class(
    n_students: int = 30,
    *,
    history_students: int = 60,
    strategy: str = "adaptive",
    start: int = 20,
    step: int = 5,
    seed: int = 0,
) -> SimulatedClass:
    """Simulate a class, and fit the teacher's BKT model on a previous simulated cohort.

    Why two cohorts: a dashboard in a school uses a model fitted on earlier classes, then traces
    the current class with it; fitting on the monitored class itself would let the model see the
    answers it is asked to judge.

    Parameters
    ----------
    n_students : int
        Students in the monitored class.
    history_students : int
        Students of "last year", whose log the model is fitted on.
    strategy : str
        Name of a built-in pathway strategy both cohorts follow (see
        :data:`edstudy.sim.STRATEGY_NAMES`).
    start, step : int
        Responses per student shown at first / added by each replay step.
    seed : int
        Everything random derives from it (class: ``seed``, history: ``seed + 1``, fit: ``seed``).

    Returns
    -------
    SimulatedClass
    """
    check_count("n_students", n_students)
    check_count("history_students", history_students)
    curriculum = default_curriculum()
    rules = load_strategy(strategy)
    history, _ = simulate_cohort(
        rules, history_students, cohort_seed=seed + 1, seed=seed + 1, curriculum=curriculum
    )
    current, _ = simulate_cohort(
        rules, n_students, cohort_seed=seed, seed=seed, curriculum=curriculum
    )
    model = BKT(seed=seed).fit(history)
    replay = ResponseReplay(current, start=start, step=step)
    return SimulatedClass(
        curriculum=curriculum, model=model, replay=replay, log=replay.initial, history=history
    )
