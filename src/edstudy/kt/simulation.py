"""Simulated students drawn from a fitted student model, answering one opportunity at a time.

Every model of :mod:`edstudy.kt` returns a :class:`Simulation` from ``model.simulator(n, seed)``:
a cohort of new students (their latent traits drawn from the fitted population, e.g. an ability
from Normal(0, ability_sd^2) or BKT's initial knowledge) whose answers are drawn from the model
given everything they did before. It is the interface a strategy simulator needs to run under
any student model (the columns of the Robust Evaluation Matrix)::

    sim = model.simulator(n_students=100, seed=0)
    p = sim.p_next(skills)               # P(correct) of each student's next answer, no change
    y = sim.step(skills, items)          # draw the answers, record them, return 0/1
    sim.observe(skills, answers)         # or record answers drawn by the caller's own stream
    sim.observe(skills, answers, uniforms=u)  # ... and hidden-state transitions from its uniforms
    sim.p_skills()                       # (n, K) P(correct) on an average item of every skill now
    sim.mastered(0.9)                    # (n, K) p_skills >= 0.9 (BKT models: None = true state)
    sim.log()                            # the response log so far

``model.simulate(schedule, seed)`` fills the ``correct`` column of a whole schedule (rows
``student_id, skill_id, order`` and optional ``item_id, timestamp``) attempt by attempt, each
attempt seeing only the answers drawn before it. The rows of a multi-skill attempt share one
uniform draw, so rows with the same P(correct) get the same answer (as in ASSISTments).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from edstudy.kt.features import AVERAGE_ITEM

__all__ = ["AVERAGE_ITEM", "Simulation", "simulate_schedule"]


def _as_array(x: Any, n: int, name: str, dtype=object) -> np.ndarray:
    if x is None:
        return None
    if np.ndim(x) == 0:
        return np.full(n, x, dtype=dtype)
    arr = np.asarray(x, dtype=dtype).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"{name} must have one value per student ({n}), got {arr.shape[0]}")
    return arr


class Simulation:
    """A cohort of simulated students of one fitted model (see the module docstring).

    Attributes
    ----------
    model : the fitted model
    n_students : int
    rng : numpy Generator
        The only source of randomness (seeded).
    """

    def __init__(self, model: Any, n_students: int, rng: np.random.Generator) -> None:
        if isinstance(n_students, bool) or not isinstance(n_students, int | np.integer):
            raise ValueError(f"n_students must be an int >= 1, got {n_students!r}")
        if n_students < 1:
            raise ValueError(f"n_students must be an int >= 1, got {n_students!r}")
        self.model = model
        self.n_students = int(n_students)
        self.rng = rng
        self._chunks: list[pd.DataFrame] = []
        self._next_order = np.zeros(self.n_students, dtype=np.int64)

    # ------------------------------------------------------------------ hooks
    def _p(self, rows: pd.DataFrame) -> np.ndarray:  # pragma: no cover - overridden
        """P(correct) of candidate rows (``student_id`` = simulated index) given the history."""
        raise NotImplementedError

    def _record(
        self, rows: pd.DataFrame, answers: np.ndarray, uniforms: np.ndarray | None = None
    ) -> None:
        """Append answered rows to the history (models with latent states also move them, with
        ``uniforms``, one per row, or else draws of :attr:`rng`)."""
        done = rows.assign(correct=pd.array(answers.astype(np.int8), dtype="Int8"))
        self._chunks.append(done)
        st = rows["student_id"].to_numpy(dtype=np.int64)
        np.maximum.at(self._next_order, st, rows["order"].to_numpy(dtype=np.int64) + 1)

    # ------------------------------------------------------------------ public
    def _students(self, students: Any) -> np.ndarray:
        if students is None:
            return np.arange(self.n_students)
        s = np.asarray(students, dtype=np.int64).reshape(-1)
        if s.size and (s.min() < 0 or s.max() >= self.n_students):
            raise ValueError(f"students must be indices in 0 .. {self.n_students - 1}")
        if np.unique(s).size != s.size:
            raise ValueError("students must not repeat within one step")
        return s

    def _candidates(self, skills, items, students, times) -> pd.DataFrame:
        s = self._students(students)
        n = s.size
        rows = {
            "student_id": s,
            "skill_id": _as_array(skills, n, "skills"),
            "order": self._next_order[s],
            "correct": pd.array([pd.NA] * n, dtype="Int8"),
            "item_id": _as_array(AVERAGE_ITEM if items is None else items, n, "items"),
        }
        if times is not None:
            rows["timestamp"] = pd.to_datetime(_as_array(times, n, "times", dtype=float), unit="s")
        return pd.DataFrame(rows)

    def history(self) -> pd.DataFrame:
        """The answered rows so far (``student_id`` = simulated index)."""
        if not self._chunks:
            return pd.DataFrame(
                {
                    "student_id": np.zeros(0, dtype=np.int64),
                    "skill_id": np.zeros(0, dtype=object),
                    "order": np.zeros(0, dtype=np.int64),
                    "correct": pd.array([], dtype="Int8"),
                    "item_id": np.zeros(0, dtype=object),
                }
            )
        return pd.concat(self._chunks, ignore_index=True)

    def p_next(self, skills: Any, items: Any = None, *, students=None, times=None) -> np.ndarray:
        """P(correct) of each student's next answer (on ``skills``, optionally ``items``);
        nothing is recorded.

        Parameters
        ----------
        skills : id or array (m,)
            The skill of each student's next opportunity.
        items : id or array (m,), optional
            Its item (default: an average item of the skill, :data:`AVERAGE_ITEM`).
        students : int array (m,), optional
            Which simulated students (default all, in order).
        times : float or array (m,), optional
            Seconds since the start (models with time windows need them).
        """
        return self._p(self._candidates(skills, items, students, times))

    def step(self, skills: Any, items: Any = None, *, students=None, times=None) -> np.ndarray:
        """Draw each student's answer to their next opportunity, record it and return it
        (int8 0/1, shape (m,)). Arguments as in :meth:`p_next`."""
        rows = self._candidates(skills, items, students, times)
        p = self._p(rows)
        y = (self.rng.random(p.shape[0]) < p).astype(np.int8)
        self._record(rows, y)
        return y

    def observe(
        self,
        skills: Any,
        correct: Any,
        items: Any = None,
        *,
        students=None,
        times=None,
        uniforms: Any = None,
    ) -> None:
        """Record answers drawn elsewhere (e.g. by a simulator engine with its own random
        stream, from :meth:`p_next`): the same bookkeeping as :meth:`step` without the draw.

        Parameters
        ----------
        correct : 0/1 array (m,)
        uniforms : float array (m,) in [0, 1), optional
            Models with a hidden state (BKT family): the uniforms of each student's learning /
            forgetting transition after this answer, drawn by the caller (e.g. from each
            student's own stream, so a student's path does not depend on who is simulated with
            them); default draws of :attr:`rng`. Ignored by models without a hidden state.
            Other arguments as in :meth:`p_next`.
        """
        rows = self._candidates(skills, items, students, times)
        y = np.asarray(correct).reshape(-1)
        if y.shape[0] != len(rows) or not np.isin(y, (0, 1)).all():
            raise ValueError(f"correct must be {len(rows)} values 0 or 1")
        u = None
        if uniforms is not None:
            u = np.asarray(uniforms, dtype=float).reshape(-1)
            if u.shape[0] != len(rows) or not np.all((u >= 0) & (u < 1)):
                raise ValueError(f"uniforms must be {len(rows)} numbers in [0, 1)")
        self._record(rows, y.astype(np.int8), u)

    def mastered(self, threshold: float = 0.9, skills: Any = None, *, students=None) -> np.ndarray:
        """Which skills each student has mastered now, (m, K) bool: P(correct) on an average
        item (:meth:`p_skills`) at least ``threshold``. BKT models override this with the true
        hidden states when ``threshold`` is None."""
        if threshold is None:
            raise ValueError("this model has no hidden knowledge state; give a threshold")
        return self.p_skills(skills, students=students) >= float(threshold)

    def p_skills(self, skills: Any = None, *, students=None) -> np.ndarray:
        """P(correct) now on a first showing of an average item of every skill, (m, K):
        the model's expected post-test score per skill (nothing is recorded)."""
        skills = list(self.model.skills_) if skills is None else list(skills)
        s = self._students(students)
        out = np.empty((s.size, len(skills)))
        for j, k in enumerate(skills):
            out[:, j] = self.p_next(k, None, students=s)
        return out

    def log(self) -> pd.DataFrame:
        """The response log so far (``student_id`` 0 .. n-1; ``item_id`` of average-item rows is
        None)."""
        h = self.history()
        if "item_id" in h:
            h["item_id"] = h["item_id"].map(lambda x: None if x is AVERAGE_ITEM else x)
        return h.sort_values(["student_id", "order", "skill_id"], kind="stable").reset_index(
            drop=True
        )


def simulate_schedule(sim: Simulation, schedule: pd.DataFrame) -> pd.DataFrame:
    """Draw ``correct`` for every row of ``schedule`` from ``sim`` (whose ``n_students`` is the
    number of students of the schedule), attempt by attempt.

    Returns
    -------
    DataFrame
        The schedule (its own student ids, sorted by student, order, skill) with ``correct``.
    """
    for col in ("student_id", "skill_id", "order"):
        if col not in schedule.columns:
            raise ValueError(f"schedule needs a {col!r} column")
    sched = schedule.copy()
    codes, students = pd.factorize(sched["student_id"], sort=True)
    if len(students) != sim.n_students:
        raise ValueError(f"schedule has {len(students)} students, simulation {sim.n_students}")
    sched["_st"] = codes
    sched = sched.sort_values(["_st", "order", "skill_id"], kind="stable").reset_index(drop=True)
    if sched.duplicated(["_st", "skill_id", "order"]).any():
        raise ValueError("schedule repeats a (student_id, skill_id, order)")
    first = ~sched.duplicated(["_st", "order"])
    attempt_no = first.groupby(sched["_st"]).cumsum().to_numpy() - 1
    att_id = np.cumsum(first.to_numpy()) - 1
    has_item = "item_id" in sched.columns
    answers = np.zeros(len(sched), dtype=np.int8)
    for k in range(int(attempt_no.max()) + 1 if len(sched) else 0):
        idx = np.flatnonzero(attempt_no == k)
        part = sched.iloc[idx]
        rows = pd.DataFrame(
            {
                "student_id": part["_st"].to_numpy(),
                "skill_id": part["skill_id"].to_numpy(dtype=object),
                "order": part["order"].to_numpy(dtype=np.int64),
                "correct": pd.array([pd.NA] * len(part), dtype="Int8"),
                "item_id": part["item_id"].to_numpy(dtype=object)
                if has_item
                else np.full(len(part), AVERAGE_ITEM, dtype=object),
            }
        )
        if "timestamp" in part:
            rows["timestamp"] = pd.to_datetime(part["timestamp"]).to_numpy()
        p = sim._p(rows)
        a = att_id[idx]
        u_att = sim.rng.random(int(a.max() - a.min()) + 1)
        y = (u_att[a - a.min()] < p).astype(np.int8)
        sim._record(rows, y)
        answers[idx] = y
    out = sched.drop(columns="_st")
    out["correct"] = pd.array(answers, dtype="Int8")
    return out
