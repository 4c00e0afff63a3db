"""Sweeps over a strategy's parameters: the trade-off table for instructional designers.

``sweep(strategy, {"mastery_threshold": [0.85, 0.9, 0.95], "remediate_after_errors": [2, 3]})``
runs every combination on the *same* simulated students (a counterfactual comparison, so
differences between rows are not blurred by different cohorts) and returns one row per
combination: practice time, post-test, dropout, over- and under-practice, with 95% intervals.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from edstudy.experiment.runner import ProgressCallback, run_study
from edstudy.experiment.study import Arm, Study
from edstudy.sim.curriculum import Curriculum, default_curriculum
from edstudy.sim.engine import Budget
from edstudy.sim.population import PopulationSpec
from edstudy.sim.strategies import Strategy, load_strategy

__all__ = ["SWEEP_METRICS", "sweep", "sweep_headline"]

#: outcome columns of the trade-off table
SWEEP_METRICS: tuple[str, ...] = (
    "time_on_task",
    "opportunities",
    "posttest",
    "mastered_true",
    "dropped_out",
    "over_practice",
    "under_practice",
)


def _label(combo: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in combo.items())


def sweep(
    strategy: Strategy | str,
    grid: Mapping[str, Sequence[Any]],
    *,
    curriculum: Curriculum | None = None,
    population: PopulationSpec | None = None,
    n_students: int = 1000,
    replications: int = 1,
    seed: int = 0,
    budget: Budget | None = None,
    scenarios: Mapping[str, Mapping[str, Any]] | None = None,
    client: Any = None,
    progress: bool | None = None,
    on_progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Run a strategy at every combination of parameter values; return the trade-off table.

    Parameters
    ----------
    strategy : Strategy or str
        The strategy, or the path / shipped name of its rule file.
    grid : mapping of parameter name to values
        E.g. ``{"mastery_threshold": [0.8, 0.9, 0.95]}``; names must be the strategy's ``params``.
    curriculum, population, budget : optional
        Defaults: the shipped curriculum, ``PopulationSpec()``, ``Budget()``.
    n_students, replications, seed : int
        The same students (per replication) run every combination.
    scenarios : mapping, optional
        Population overrides, as in :class:`~edstudy.experiment.study.Study`.
    client : dask.distributed.Client, optional
    progress, on_progress
        A text progress bar; a callback ``on_progress(done, total)`` over the runner's tasks
        (see :func:`edstudy.experiment.run_study`).

    Returns
    -------
    DataFrame
        One row per (scenario, combination): the parameter columns, ``arm`` (a label), and for each
        metric its mean and ``_low`` / ``_high`` 95% bounds; ``time_on_task`` is reported as
        ``practice_minutes``.

    Raises
    ------
    ConfigError
        For a parameter the strategy does not have or a value of the wrong type (before running).
    """
    base = load_strategy(strategy) if isinstance(strategy, str) else strategy
    if not grid:
        raise ValueError("grid must name at least one parameter with values")
    names = list(grid)
    values = [list(grid[k]) for k in names]
    if any(len(v) == 0 for v in values):
        raise ValueError("every parameter in grid needs at least one value")
    combos = [dict(zip(names, vs, strict=True)) for vs in itertools.product(*values)]
    arms = tuple(Arm(name=_label(c), strategy=base.with_params(c), params=c) for c in combos)
    study = Study(
        arms=arms,
        curriculum=curriculum or default_curriculum(),
        population=population or PopulationSpec(),
        n_students=n_students,
        randomization="none",
        replications=replications,
        seed=seed,
        budget=budget or Budget(),
        scenarios=dict(scenarios or {}),
        name=f"sweep of {base.name}",
    )
    result = run_study(
        study, client=client, progress=progress, on_progress=on_progress, keep_log=False
    )
    s = result.summary(metrics=SWEEP_METRICS)
    wide = s.pivot_table(
        index=["scenario", "arm"],
        columns="metric",
        values=["mean", "ci_low", "ci_high"],
        sort=False,
    )
    table = pd.DataFrame(index=wide.index)
    for m in SWEEP_METRICS:
        scale = 1 / 60.0 if m == "time_on_task" else 1.0
        col = "practice_minutes" if m == "time_on_task" else m
        table[col] = wide[("mean", m)] * scale
        table[f"{col}_low"] = wide[("ci_low", m)] * scale
        table[f"{col}_high"] = wide[("ci_high", m)] * scale
    table = table.reset_index()
    by_label = {_label(c): c for c in combos}
    for k in reversed(names):
        table.insert(1, k, [by_label[a][k] for a in table["arm"]])
    order = {a.name: i for i, a in enumerate(arms)}
    table["_o"] = table["arm"].map(order)
    return (
        table.sort_values(["scenario", "_o"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def sweep_headline(table: pd.DataFrame, parameter: str, *, scenario: str | None = None) -> str:
    """One sentence: what moving ``parameter`` from its lowest to its highest swept value costs
    in practice time and buys in post-test and dropout (means of :func:`sweep`'s table)."""
    t = table if scenario is None else table[table["scenario"] == scenario]
    t = t.sort_values(parameter)
    lo, hi = t.iloc[0], t.iloc[-1]
    return (
        f"Raising {parameter} from {lo[parameter]:g} to {hi[parameter]:g} changes practice by "
        f"{hi['practice_minutes'] - lo['practice_minutes']:+.0f} minutes per student, the "
        f"post-test by {100 * (hi['posttest'] - lo['posttest']):+.1f} points and dropout by "
        f"{100 * (hi['dropped_out'] - lo['dropped_out']):+.1f} points."
    )
