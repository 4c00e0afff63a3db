"""Responders: another student model answers the engine's practice questions.

By default the engine's students are standard BKT students (a hidden known/unknown state per
skill, answers ``1 - slip`` / ``guess``, the learning transition after each opportunity; see
:mod:`edstudy.sim.engine`). ``simulate(..., responder=r)`` hands the answers to ``r`` instead, so
strategies can be compared under any student model that can draw a student's next response given
their history (the columns of the Robust Evaluation Matrix,
:mod:`edstudy.investigations.real_cohort`). Everything else stays the engine's: the curriculum,
the strategy's rules, the tutor's BKT estimate, time, engagement and dropout of the cohort.

What the engine asks of a responder (:class:`Responder`; students are row indices of the cohort,
skills column indices of the curriculum)

``skill_state()``
    ``(p, known)``, both (n, K): each student's P(correct) now on a test item of every skill and
    which skills the responder counts as mastered (its own notion of mastery: the true hidden
    state of a BKT-family model, a declared rule for a model without one). Called once before
    the tutor (the pre-test answers are drawn from ``p``; ``known`` is the prior mastery) and once
    at the end (post-test, ``mastered_true``, ``true_expected_posttest = p.mean(axis=1)``).
``p_correct(students, skills, times)``
    ``(p, known)``, both (m,): P(correct) of each student's next answer on their current skill,
    and whether that skill counts as mastered now. Nothing is recorded.
``observe(students, skills, correct, times, uniforms)``
    Record the answers (drawn by the engine) and move the responder's state. ``uniforms`` (m,)
    are the students' own uniforms for a hidden-state transition (a responder without one ignores
    them).

``times`` are the seconds of tutor time each student has used (models with time windows need
them; they never decrease for a student).

How the engine uses it, per opportunity
    ``p, known = p_correct(...)``; the engine's ``known`` of that (student, skill) is set to
    ``known`` (so over-practice, boredom and everything else that reads the true state see the
    responder's mastery); the answer is ``u < p`` with ``u`` the student's own practice uniform
    (the same Philox stream as the BKT path, so results do not depend on which students are
    simulated together as long as the responder's answers for a student depend only on that
    student); the kernel's own learning transition is skipped; ``observe(...)`` with the kernel's
    learning uniform; then ``p_correct`` once more to refresh ``known`` after the opportunity
    (under-practice is read when the tutor moves on). Activities (media, remediation) do not reach
    a responder: for it every opportunity is an answered attempt on the skill.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Responder", "check_skill_state"]


@runtime_checkable
class Responder(Protocol):
    """A cohort of simulated students of some student model (see the module docstring)."""

    def skill_state(self) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - protocol
        """``(p, known)``: P(correct) on a test item of every skill now and mastery, (n, K)."""
        ...

    def p_correct(
        self, students: np.ndarray, skills: np.ndarray, times: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - protocol
        """``(p, known)`` of each student's next answer on ``skills``, (m,); nothing recorded."""
        ...

    def observe(
        self,
        students: np.ndarray,
        skills: np.ndarray,
        correct: np.ndarray,
        times: np.ndarray,
        uniforms: np.ndarray,
    ) -> None:  # pragma: no cover - protocol
        """Record the answers and move the state (hidden transitions use ``uniforms``)."""
        ...


def check_skill_state(state: tuple[np.ndarray, np.ndarray], n: int, k: int) -> tuple:
    """``(p, known)`` of :meth:`Responder.skill_state` as float (n, K) in [0, 1] and bool (n, K);
    a ``ValueError`` says what is wrong."""
    p, known = state
    p = np.ascontiguousarray(p, dtype=float)
    known = np.ascontiguousarray(known, dtype=np.bool_)
    if p.shape != (n, k) or known.shape != (n, k):
        raise ValueError(
            f"responder.skill_state() must give two ({n}, {k}) arrays (students x skills), "
            f"got {p.shape} and {known.shape}"
        )
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("responder.skill_state() gave probabilities outside [0, 1]")
    return p, known
