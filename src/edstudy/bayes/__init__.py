"""Bayesian models (PyMC): hierarchical BKT, learner preferences and the meshing test.

Importing :mod:`edstudy.bayes` is cheap: PyMC is imported only when a model function is first
used (``edstudy.bayes.fit_hbkt`` etc. are resolved lazily), and :mod:`edstudy.bayes.synthetic`
and :mod:`edstudy.bayes.priors` never import it.

Every ``fit_*`` function takes one :class:`FitSettings` (method, draws, chains, ...), and
:func:`quiet_pymc` silences PyMC's progress messages.

Functions
---------
fit_hbkt, build_hbkt_model, mastery_posterior, HierarchicalBKT
    Hierarchical (individualized) BKT with student random effects on prior mastery and learning.
fit_preferences, build_preference_model, preference_summary
    Hierarchical multinomial logit of media choices with class pooling and survey predictors.
fit_meshing, build_meshing_model, meshing_summary
    Learning gains with a preference-match x medium interaction ("does the preferred medium help?").
"""

from __future__ import annotations

import importlib
from typing import Any

from edstudy.bayes.priors import HBKTPriors, MeshingPriors, PreferencePriors
from edstudy.bayes.settings import FitSettings, quiet_pymc

_LAZY = {
    "HierarchicalBKT": "edstudy.bayes.hbkt",
    "build_hbkt_model": "edstudy.bayes.hbkt",
    "fit_hbkt": "edstudy.bayes.hbkt",
    "mastery_posterior": "edstudy.bayes.hbkt",
    "build_preference_model": "edstudy.bayes.preference",
    "fit_preferences": "edstudy.bayes.preference",
    "preference_summary": "edstudy.bayes.preference",
    "build_meshing_model": "edstudy.bayes.meshing",
    "fit_meshing": "edstudy.bayes.meshing",
    "meshing_summary": "edstudy.bayes.meshing",
}

__all__ = ["FitSettings", "HBKTPriors", "MeshingPriors", "PreferencePriors", "quiet_pymc", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edstudy.bayes' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
