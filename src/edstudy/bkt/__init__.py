"""Bayesian Knowledge Tracing: the fitted estimator and the online mastery update.

* :class:`BKT` – the estimator (fit / predict_proba / mastery / score / cross_validate / sample /
  to_json / from_json) with the forgets, KT-IDEM, activity and individualized variants.
* :class:`BKTParams`, :class:`SkillParams` – parameters as validated frozen dataclasses.
* :func:`update_mastery`, :func:`p_correct` – the constant-time online update used by the
  simulator's tutors and the dashboard (``BKT.mastery`` equals chaining it).
* :func:`sample_log` – simulate a response log from parameters.
"""

from edstudy.bkt.filtering import p_correct, update_mastery
from edstudy.bkt.model import BKT, ConvergenceWarning, NotFittedError, UnscoredSkillWarning
from edstudy.bkt.params import BKTParams, SkillParams
from edstudy.bkt.sampling import sample_log

__all__ = [
    "BKT",
    "BKTParams",
    "ConvergenceWarning",
    "UnscoredSkillWarning",
    "NotFittedError",
    "SkillParams",
    "p_correct",
    "sample_log",
    "update_mastery",
]
