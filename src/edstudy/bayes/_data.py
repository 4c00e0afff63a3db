"""Response log -> flat and padded sequence arrays for the Bayesian models (numpy only, no PyMC).

The hierarchical BKT likelihood is written in closed form (see :mod:`edstudy.bayes.hbkt`): with no
forgetting, mastery is absorbing, so a sequence's hidden path is fully described by ``tau``, the
first opportunity at which the student is in the mastered state. Given ``tau`` the answers are
independent, so the marginal likelihood is a log-sum-exp over ``tau`` of terms that need only the
counts of correct / incorrect answers before ``tau``. The compiled kernel reads the flat arrays;
the pure-PyTensor variant reads the padded count matrices built here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from edstudy.schema import to_sequences

__all__ = ["BKTArrays", "bkt_arrays", "tau_design"]


@dataclass(frozen=True)
class BKTArrays:
    """Per-(student, skill) sequences of a scored response log as flat arrays.

    Sequences are ordered by skill, then student; sequence ``j`` is
    ``correct[offsets[j]:offsets[j+1]]`` in ``order``.

    Attributes
    ----------
    correct : int8 array, shape (n_rows,)
        0/1 answers.
    offsets : int64 array, shape (n_sequences + 1,)
    seq_student, seq_skill : int64 arrays, shape (n_sequences,)
        Codes into ``students`` / ``skills``.
    students, skills : Index
        Distinct ids in code order.
    """

    correct: np.ndarray
    offsets: np.ndarray
    seq_student: np.ndarray
    seq_skill: np.ndarray
    students: pd.Index
    skills: pd.Index

    @property
    def n_sequences(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def lengths(self) -> np.ndarray:
        """int64 array, shape (n_sequences,)."""
        return np.diff(self.offsets)

    @property
    def horizon(self) -> int:
        """Length of the longest sequence."""
        return int(self.lengths.max())

    @property
    def n_correct(self) -> np.ndarray:
        """Correct answers per sequence, float64 array, shape (n_sequences,)."""
        return np.add.reduceat(self.correct.astype(np.float64), self.offsets[:-1])

    @property
    def n_wrong(self) -> np.ndarray:
        """Incorrect answers per sequence, float64 array, shape (n_sequences,)."""
        return self.lengths - self.n_correct

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(correct, mask)``, int8 and bool arrays of shape (n_sequences, horizon).

        Padding cells of ``correct`` are 0; ``mask`` is True where a response exists.
        """
        lengths = self.lengths
        col = np.arange(self.horizon)
        mask = col[None, :] < lengths[:, None]
        pos = self.offsets[:-1, None] + col[None, :]
        correct = np.zeros(mask.shape, dtype=np.int8)
        correct[mask] = self.correct[pos[mask]]
        return correct, mask

    def counts_before(self) -> tuple[np.ndarray, np.ndarray]:
        """Correct and incorrect answers before each opportunity, float64 arrays of shape
        (n_sequences, horizon + 1): column ``tau`` counts opportunities ``0 .. tau-1``."""
        correct, mask = self.padded()
        zeros = np.zeros((correct.shape[0], 1))
        right = np.cumsum((correct == 1) & mask, axis=1, dtype=np.float64)
        wrong = np.cumsum((correct == 0) & mask, axis=1, dtype=np.float64)
        return np.concatenate([zeros, right], axis=1), np.concatenate([zeros, wrong], axis=1)


def bkt_arrays(
    log: pd.DataFrame,
    *,
    skills: pd.Index | None = None,
    max_opportunities: int | None = None,
) -> BKTArrays:
    """Group a scored response log into per-(student, skill) sequences for the Bayesian models.

    Parameters
    ----------
    log : DataFrame
        Response log with ``student_id, skill_id, order, correct`` (no missing ``correct``).
    skills : Index, optional
        Fix the skill coding (e.g. the skills of a fitted model).
    max_opportunities : int, optional
        Keep only the first ``max_opportunities`` responses of each sequence.

    Returns
    -------
    BKTArrays
    """
    if len(log) == 0:
        raise ValueError("the response log is empty")
    seqs = to_sequences(log, skills=skills)
    correct, offsets = seqs.correct, seqs.offsets
    if max_opportunities is not None:
        if max_opportunities < 1:
            raise ValueError(f"max_opportunities must be >= 1, got {max_opportunities}")
        lengths = np.minimum(seqs.lengths, max_opportunities)
        keep = np.repeat(offsets[:-1], lengths) + (
            np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        )
        correct = correct[keep]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return BKTArrays(
        correct=np.ascontiguousarray(correct, dtype=np.int8),
        offsets=np.ascontiguousarray(offsets, dtype=np.int64),
        seq_student=seqs.seq_student,
        seq_skill=seqs.seq_skill,
        students=seqs.students,
        skills=seqs.skills,
    )


def tau_design(horizon: int) -> np.ndarray:
    """Coefficients of the log prior of ``tau`` (first mastered opportunity), shape (4, horizon+1).

    ``log P(tau) = c0 log L0 + c1 log(1 - L0) + c2 log(1 - T) + c3 log T`` with rows
    ``c0 = [tau == 0]``, ``c1 = [tau >= 1]``, ``c2 = min(tau, horizon) - 1`` clipped at 0, and
    ``c3 = [1 <= tau < horizon]``; ``tau = horizon`` is "not mastered within the horizon".
    """
    tau = np.arange(horizon + 1)
    c0 = (tau == 0).astype(float)
    c1 = (tau >= 1).astype(float)
    c2 = np.clip(tau - 1, 0, None).astype(float)
    c3 = ((tau >= 1) & (tau < horizon)).astype(float)
    return np.stack([c0, c1, c2, c3])
