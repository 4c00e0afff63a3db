"""One-step Bayesian Knowledge Tracing update, vectorized over students.

The simulator's tutors and the dashboard trace mastery online, one response at a time, for many
students at once; this is the constant-time update they share with the fitted model.
"""

from __future__ import annotations

import numpy as np

__all__ = ["update_mastery", "p_correct"]


def p_correct(
    p_mastered: np.ndarray, guess: np.ndarray | float, slip: np.ndarray | float
) -> np.ndarray:
    """Probability of a correct answer given P(mastered): ``p (1 - slip) + (1 - p) guess``."""
    p = np.asarray(p_mastered, dtype=float)
    return p * (1.0 - slip) + (1.0 - p) * guess


def update_mastery(
    p_mastered: np.ndarray,
    correct: np.ndarray,
    *,
    guess: np.ndarray | float,
    slip: np.ndarray | float,
    learn: np.ndarray | float,
    forget: np.ndarray | float = 0.0,
) -> np.ndarray:
    """P(mastered) before the next opportunity, after observing one answer.

    Conditions the current estimate on the answer (Bayes' rule with guess/slip), then applies the
    learning transition: ``p' = post (1 - forget) + (1 - post) learn``.

    Parameters
    ----------
    p_mastered : array, shape (n,)
        P(mastered) before the answer.
    correct : array of 0/1, shape (n,)
    guess, slip, learn, forget : float or array broadcastable to (n,)

    Returns
    -------
    array, shape (n,)
        P(mastered) before the next opportunity. The input is not modified.
    """
    p = np.asarray(p_mastered, dtype=float)
    c = np.asarray(correct).astype(bool)
    like_m = np.where(c, 1.0 - slip, slip)
    like_u = np.where(c, guess, 1.0 - guess)
    num = p * like_m
    post = num / (num + (1.0 - p) * like_u)
    return post * (1.0 - forget) + (1.0 - post) * learn
