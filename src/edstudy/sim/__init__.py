"""Simulated cohorts: curriculum, student population with ground truth, pathway rules, engine.

Pure functions of (configuration, seed): the same seed gives the same response log and outcomes,
bit for bit. Importing this package does not import Dask, PyMC or ipywidgets (nor
:mod:`edstudy.kt`: students of a fitted kt model answer through
:class:`edstudy.sim.from_kt.KTStudentModel`, a :class:`Responder`).

>>> from edstudy.sim import default_curriculum, PopulationSpec, draw_cohort, load_strategy, simulate
>>> cur = default_curriculum()
>>> cohort = draw_cohort(PopulationSpec(meshing_effect=0.5), cur, 200, seed=1)
>>> log, outcomes = simulate(cohort, cur, load_strategy("individualized"), seed=2)
"""

from edstudy.sim._config import ConfigError
from edstudy.sim.curriculum import (
    Activity,
    Curriculum,
    Skill,
    curriculum_from_dict,
    data_path,
    default_curriculum,
    load_curriculum,
)
from edstudy.sim.engine import MASTERY_REPORTED, Budget, Simulation, simulate
from edstudy.sim.population import Cohort, PopulationSpec, draw_cohort
from edstudy.sim.quick import simulate_cohort
from edstudy.sim.responder import Responder
from edstudy.sim.rule_text import check_edits, parse_rules, rule_text, strategy_to_text
from edstudy.sim.rules import STATE_VARIABLES, ConditionError, ConditionFunction, parse_condition
from edstudy.sim.strategies import (
    ACTIONS,
    STRATEGY_NAMES,
    Rule,
    Strategy,
    builtin_strategy,
    load_strategy,
    strategy_from_dict,
    strategy_from_text,
)

__all__ = [
    "ACTIONS",
    "STATE_VARIABLES",
    "STRATEGY_NAMES",
    "MASTERY_REPORTED",
    "Activity",
    "Budget",
    "Cohort",
    "ConditionError",
    "ConditionFunction",
    "ConfigError",
    "Curriculum",
    "PopulationSpec",
    "Responder",
    "Rule",
    "Simulation",
    "Skill",
    "Strategy",
    "builtin_strategy",
    "check_edits",
    "curriculum_from_dict",
    "data_path",
    "default_curriculum",
    "draw_cohort",
    "load_curriculum",
    "load_strategy",
    "parse_condition",
    "parse_rules",
    "rule_text",
    "simulate",
    "simulate_cohort",
    "strategy_from_dict",
    "strategy_from_text",
    "strategy_to_text",
]
