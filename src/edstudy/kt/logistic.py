"""The shared base of the logistic student models (IRT, AFM, PFA, Best-LR, DAS3H).

``P(correct) = sigmoid(intercept + sum of the model's feature blocks [+ student ability])``,
fitted by scikit-learn's ``LogisticRegression`` (L2 penalty ``1 / (2 C)`` on every coefficient,
Newton-CG on the scipy.sparse design of :mod:`edstudy.kt.design`). Each scored row weighs
``1 / (scored rows of its attempt)``, so a multi-skill problem counts as one answer however many
skill rows it has.

Student ability (IRT, AFM, DAS3H)
    Fitted as one coefficient per training student (a Normal(0, C) prior through the penalty).
    Predictions never use a fitted ability: every student's ability is inferred online from their
    own earlier answers only (the posterior on a 21-point Gauss-Hermite grid of the Normal(0,
    ability_sd_^2) prior, updated after each attempt, :mod:`edstudy.kt._ability`), so seen and
    unseen students are treated alike and no prediction depends on its own or later answers. The
    spread ``ability_sd_`` maximizes the marginal likelihood of the training log under that same
    recursion (the other coefficients fixed). Simulated students draw their ability from the same
    Normal.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.linear_model import LogisticRegression

from edstudy.bkt.model import ConvergenceWarning
from edstudy.kt import _base as B
from edstudy.kt._ability import ability_filter, grid, mml_sd
from edstudy.kt._online_state import OnlineState, StateFeatures
from edstudy.kt.design import (
    FittedBlock,
    Indexed,
    Shared,
    fit_matrix,
    linear_predictor,
    uncenter,
)
from edstudy.kt.features import BatchFeatures, Timeline, build_timeline
from edstudy.kt.simulation import AVERAGE_ITEM, Simulation, simulate_schedule
from edstudy.schema import validate_log

__all__ = ["LogisticKT", "sigmoid"]

HANDLE_UNKNOWN = ("average", "error")


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sorted_ids(ids) -> pd.Index:
    """Ids sorted (mixed types, e.g. ints and strings, by type name first)."""
    idx = pd.Index(ids, dtype=object)
    try:
        return idx.sort_values()
    except TypeError:
        return pd.Index(sorted(idx, key=lambda x: (type(x).__name__, x)), dtype=object)


class LogisticKT(B.KTModel):
    """Base of the logistic student models; subclasses declare their feature blocks.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 penalty of scikit-learn's ``LogisticRegression`` (the prior variance of every
        coefficient, abilities included).
    max_iter : int, default 200
        Newton-CG iterations.
    tol : float, default 1e-4
        Solver tolerance.
    handle_unknown : {"average", "error"}, default "average"
        Skills or items not seen in fit, at predict time: ``"average"`` gives an unseen item the
        mean coefficients of the seen items of its skill (weighted by training rows) and an unseen
        skill the mean of all skills; ``"error"`` raises ``ValueError`` naming them. Unseen
        students are never an error (abilities are inferred online). :meth:`coverage` counts them.
    seed : int or None, default 0
        Seed of :meth:`simulator` / :meth:`simulate` and the default of :meth:`cross_validate`.
    """

    #: does the model have a student ability?
    has_ability = False

    def __init__(
        self,
        *,
        C: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-4,
        handle_unknown: str = "average",
        seed: int | None = 0,
    ) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.handle_unknown = handle_unknown
        self.seed = seed
        self._check_options()

    def _check_options(self) -> None:
        B.check_number("C", self.C, "> 0", lambda v: v > 0)
        B.check_int("max_iter", self.max_iter, 1)
        B.check_number("tol", self.tol, "> 0", lambda v: v > 0)
        B.check_choice("handle_unknown", self.handle_unknown, HANDLE_UNKNOWN)
        B.check_seed(self.seed)

    # ------------------------------------------------------------------ to override
    def _windows(self) -> tuple[float, ...]:
        """Time windows (seconds) the model would use when the log has timestamps."""
        return ()

    def _blocks(self, tl: Timeline, items: np.ndarray, src) -> list[Indexed | Shared]:
        """The model's feature blocks of a timeline (``items``: the item level of every row;
        ``src``: where the features come from, :class:`~edstudy.kt.features.BatchFeatures` or a
        simulation's running state)."""
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------ internals
    def _with_items(self, tl: Timeline) -> bool:
        """Does the model use items (fixed in fit by whether the training log had them)?"""
        return bool(getattr(self, "uses_items_", tl.has_items))

    def _items(self, tl: Timeline, fitting: bool) -> np.ndarray:
        if tl.has_items:
            return tl.item_id
        if fitting:
            return np.full(tl.n_rows, None, dtype=object)
        return np.full(tl.n_rows, AVERAGE_ITEM if self.uses_items_ else None, dtype=object)

    def _timeline(self, v: pd.DataFrame, fitting: bool) -> Timeline:
        tl = build_timeline(v)
        if fitting:
            self.time_windows_ = tuple(self._windows()) if tl.time is not None else ()
        elif self.time_windows_ and tl.time is None:
            raise ValueError(
                "the model was fitted with time windows; the log needs a 'timestamp' column"
            )
        return tl

    def _check_known(self, tl: Timeline) -> None:
        if self.handle_unknown != "error":
            return
        new_sk = pd.Index(pd.unique(tl.skill_id)).difference(self.skills_)
        if len(new_sk):
            raise ValueError(
                f"skills not seen in fit: {list(new_sk[:5])} ({len(new_sk)} in all); pass "
                "handle_unknown='average' to predict them with averaged coefficients"
            )
        if self.uses_items_:
            if not tl.has_items:
                raise ValueError("the model was fitted with items; the log has no 'item_id'")
            new_it = pd.Index(pd.unique(tl.item_id)).difference(self.items_)
            if len(new_it):
                raise ValueError(
                    f"items not seen in fit: {list(new_it[:5])} ({len(new_it)} in all); pass "
                    "handle_unknown='average' to predict them with their skill's average item"
                )

    def fit(self, log: pd.DataFrame) -> LogisticKT:
        """Fit the model to a response log.

        Parameters
        ----------
        log : DataFrame
            ``student_id, skill_id, order, correct`` (+ ``item_id``, ``timestamp`` when the model
            uses them). Validated with :func:`edstudy.schema.validate_log`; not modified.

        Returns
        -------
        self
        """
        self._check_options()
        start = time.perf_counter()
        v = validate_log(log)
        tl = self._timeline(v, fitting=True)
        fit_rows = ~np.isnan(tl.correct)
        y = tl.correct[fit_rows]
        if y.size == 0 or np.unique(y).size < 2:
            raise ValueError("fit needs scored rows with both correct and incorrect answers")
        self.uses_items_ = bool(tl.has_items)
        blocks = self._blocks(tl, self._items(tl, fitting=True), BatchFeatures(tl))
        if self.has_ability:
            blocks.append(
                Indexed(
                    "ability", tl.students.to_numpy()[tl.student], np.ones(tl.n_rows), combine="row"
                )
            )
        X, layout = fit_matrix(tl, blocks, fit_rows)
        n_scored = np.bincount(tl.attempt[fit_rows], minlength=tl.n_attempts)
        w = 1.0 / n_scored[tl.attempt[fit_rows]]
        clf = LogisticRegression(
            C=float(self.C), solver="newton-cg", tol=float(self.tol), max_iter=int(self.max_iter)
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SkConvergenceWarning)
            # float32: half the memory traffic of the solver's sparse products, same optimum
            clf.fit(X[fit_rows].astype(np.float32), y.astype(int), sample_weight=w)
        coef = clf.coef_[0]
        pos = 0
        for fb in layout:
            fb.coef = coef[pos : pos + len(fb.levels)].copy()
            pos += len(fb.levels)
        eta_fit = X[fit_rows] @ coef + float(clf.intercept_[0])
        self.intercept_ = uncenter(layout, float(clf.intercept_[0]))
        self.n_iter_ = int(np.max(clf.n_iter_))
        self.converged_ = not any(issubclass(c.category, SkConvergenceWarning) for c in caught)
        p_fit = sigmoid(eta_fit)
        self.log_likelihood_ = float(np.sum(y * np.log(p_fit) + (1 - y) * np.log1p(-p_fit)))
        self.skills_ = _sorted_ids(pd.unique(tl.skill_id[fit_rows]))
        self.items_ = (
            pd.Index(pd.unique(tl.item_id[fit_rows]), dtype=object)
            if tl.has_items
            else pd.Index([], dtype=object)
        )
        if self.has_ability:
            ab = layout.pop()
            blocks.pop()
            self.abilities_ = pd.Series(ab.coef, index=ab.levels, name="ability")
            # the spread maximizing the marginal likelihood of the training log, abilities
            # integrated out exactly as predict_proba does
            eta, _ = linear_predictor(tl, blocks, layout, self.intercept_)
            self.ability_sd_ = mml_sd(
                lambda sd: ability_filter(tl.attempt_start, tl.student, eta, tl.correct, *grid(sd))[
                    1
                ]
            )
        else:
            self.ability_sd_ = 0.0
            self.abilities_ = pd.Series([], dtype=float, name="ability")
        self.layout_ = layout
        self.fit_seconds_ = time.perf_counter() - start
        self._is_fitted = True
        if not self.converged_:
            warnings.warn(
                f"the solver reached max_iter={self.max_iter} before tol={self.tol}",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _eta(
        self, v: pd.DataFrame, check: bool = True
    ) -> tuple[Timeline, np.ndarray, dict[str, int]]:
        tl = self._timeline(v, fitting=False)
        if check:
            self._check_known(tl)
        blocks = self._blocks(tl, self._items(tl, fitting=False), BatchFeatures(tl))
        eta, unseen = linear_predictor(tl, blocks, self.layout_, self.intercept_)
        return tl, eta, unseen

    def predict_proba(self, log: pd.DataFrame) -> np.ndarray:
        """One-step-ahead P(correct) of every row, in the order of ``log``'s rows.

        Row ``t`` uses only the student's rows with a smaller ``order`` (rows sharing its order,
        e.g. the other skills of a multi-skill problem, are not seen); its ability is inferred
        online from the same earlier rows. Rows of one attempt get the same prediction.
        """
        self._fitted()
        v = validate_log(log)
        tl, eta, _ = self._eta(v)
        if self.has_ability and self.ability_sd_ > 0:
            nodes, log_w = grid(self.ability_sd_)
            p = ability_filter(tl.attempt_start, tl.student, eta, tl.correct, nodes, log_w)[0]
        else:
            p = sigmoid(eta)
        out = np.empty(tl.n_rows)
        out[tl.row_index] = p
        return out

    def coverage(self, log: pd.DataFrame) -> dict[str, int]:
        """Rows of ``log`` whose skill, item (or, for models with ability, student) was not seen in
        fit; they are predicted as documented under ``handle_unknown``.

        Returns
        -------
        dict
            ``rows, unseen_skill, unseen_item`` (+ ``unseen_student`` for models with ability).
        """
        self._fitted()
        v = validate_log(log)
        if not self.uses_items_:
            n_it = 0
        elif "item_id" in v:
            n_it = int((~v["item_id"].isin(self.items_)).sum())
        else:
            n_it = len(v)
        out = {
            "rows": len(v),
            "unseen_skill": int((~v["skill_id"].isin(self.skills_)).sum()),
            "unseen_item": n_it,
        }
        if self.has_ability:
            out["unseen_student"] = int((~v["student_id"].isin(self.abilities_.index)).sum())
        return out

    # ------------------------------------------------------------------ parameters
    @property
    def params_(self) -> pd.DataFrame:
        """Tidy parameters: ``term, level, value`` (``term`` the block, e.g. ``item`` or
        ``skill_wins``; ``level`` the skill / item / student id or the column label, None for
        ``intercept`` and ``ability_sd``)."""
        self._fitted()
        parts = [pd.DataFrame({"term": ["intercept"], "level": [None], "value": [self.intercept_]})]
        for fb in self.layout_:
            parts.append(
                pd.DataFrame(
                    {"term": fb.name, "level": fb.levels.to_numpy(dtype=object), "value": fb.coef}
                )
            )
        if self.has_ability:
            parts.append(
                pd.DataFrame({"term": ["ability_sd"], "level": [None], "value": [self.ability_sd_]})
            )
            parts.append(
                pd.DataFrame(
                    {
                        "term": "ability",
                        "level": self.abilities_.index.to_numpy(dtype=object),
                        "value": self.abilities_.to_numpy(),
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def coef(self, term: str) -> pd.Series:
        """The coefficients of one block (or the abilities, ``term="ability"``) by level."""
        self._fitted()
        if term == "ability":
            return self.abilities_.copy()
        for fb in self.layout_:
            if fb.name == term:
                return pd.Series(fb.coef, index=fb.levels, name=term)
        names = [fb.name for fb in self.layout_] + (["ability"] if self.has_ability else [])
        raise KeyError(f"no term {term!r}; terms: {', '.join(names)}")

    def set_coef(self, term: str, values: Any) -> LogisticKT:
        """Replace fitted coefficients, e.g. to simulate from chosen parameters.

        Parameters
        ----------
        term : str
            ``"intercept"``, ``"ability_sd"`` (a number) or a block name (see :meth:`coef`).
        values : float, mapping or Series
            For a block, ``{level: value}`` for some or all of its levels.

        Returns
        -------
        self
        """
        self._fitted()
        if term in ("intercept", "ability_sd"):
            B.check_number(term, values, "(finite)", lambda v: term == "intercept" or v >= 0)
            setattr(self, f"{term}_", float(values))
            return self
        for fb in self.layout_:
            if fb.name == term:
                new = pd.Series(values, dtype=float)
                idx = fb.levels.get_indexer(new.index)
                if (idx < 0).any():
                    raise KeyError(f"levels not in term {term!r}: {list(new.index[idx < 0][:5])}")
                fb.coef = fb.coef.copy()
                fb.coef[idx] = new.to_numpy()
                return self
        raise KeyError(f"no term {term!r}; terms: {', '.join(fb.name for fb in self.layout_)}")

    # ------------------------------------------------------------------ JSON
    def _state(self) -> dict:
        return {
            "intercept": self.intercept_,
            "blocks": [fb.to_dict() for fb in self.layout_],
            "ability_sd": self.ability_sd_,
            "abilities": {
                "students": [B.plain(s) for s in self.abilities_.index],
                "values": [float(x) for x in self.abilities_],
            },
            "skills": [B.plain(s) for s in self.skills_],
            "items": [B.plain(s) for s in self.items_],
            "uses_items": self.uses_items_,
            "time_windows": list(self.time_windows_),
            "fit": {
                "n_iter": self.n_iter_,
                "converged": self.converged_,
                "log_likelihood": self.log_likelihood_,
                "fit_seconds": self.fit_seconds_,
            },
        }

    def _load_state(self, state: Mapping) -> None:
        self.intercept_ = float(B.need(state, "intercept", (int, float)))
        blocks = B.need(state, "blocks", list)
        self.layout_ = [
            FittedBlock.from_dict(
                B.need({"b": b}, "b", dict, f"state.blocks[{i}]"), f"state.blocks[{i}]"
            )
            for i, b in enumerate(blocks)
        ]
        self.ability_sd_ = float(B.need(state, "ability_sd", (int, float)))
        ab = B.need(state, "abilities", dict)
        students = B.need(ab, "students", list, "state.abilities")
        values = B.need(ab, "values", list, "state.abilities")
        if len(students) != len(values):
            raise ValueError("state.abilities: students and values differ in length")
        self.abilities_ = pd.Series(
            np.asarray(values, dtype=float), index=pd.Index(students, dtype=object), name="ability"
        )
        self.skills_ = pd.Index(B.need(state, "skills", list), dtype=object)
        self.items_ = pd.Index(B.need(state, "items", list), dtype=object)
        self.uses_items_ = bool(B.need(state, "uses_items", bool))
        self.time_windows_ = tuple(float(x) for x in B.need(state, "time_windows", list))
        fit = B.need(state, "fit", dict)
        self.n_iter_ = int(B.need(fit, "n_iter", int, "state.fit"))
        self.converged_ = bool(B.need(fit, "converged", bool, "state.fit"))
        self.log_likelihood_ = float(B.need(fit, "log_likelihood", (int, float), "state.fit"))
        self.fit_seconds_ = float(B.need(fit, "fit_seconds", (int, float), "state.fit"))

    # ------------------------------------------------------------------ simulation
    def simulator(
        self, n_students: int, seed: int | np.random.Generator | None = None, *, abilities=None
    ) -> LogisticSimulation:
        """New simulated students of this model (see :mod:`edstudy.kt.simulation`).

        Parameters
        ----------
        n_students : int
        seed : int or Generator, optional
            Default: the estimator's ``seed``.
        abilities : float array (n_students,), optional
            The students' true abilities (default drawn from Normal(0, ability_sd_^2); zero for
            models without ability).
        """
        self._fitted()
        rng = (
            seed
            if isinstance(seed, np.random.Generator)
            else np.random.default_rng(self.seed if seed is None else seed)
        )
        return LogisticSimulation(self, n_students, rng, abilities)

    def simulate(
        self, schedule: pd.DataFrame, seed: int | np.random.Generator | None = None
    ) -> pd.DataFrame:
        """Draw the answers of a whole schedule (see :func:`simulate_schedule`); the students'
        abilities are drawn from the fitted population, returned in ``attrs["abilities"]``."""
        n = int(schedule["student_id"].nunique())
        sim = self.simulator(n, seed)
        out = simulate_schedule(sim, schedule)
        students = pd.Index(pd.unique(schedule["student_id"])).sort_values()
        out.attrs["abilities"] = pd.Series(sim.abilities, index=students, name="ability")
        return out


class LogisticSimulation(Simulation):
    """Simulated students of a logistic model: each answer is drawn with
    ``sigmoid(linear predictor of the student's history + true ability)``.

    The features of each next opportunity come from a running state
    (:class:`~edstudy.kt._online_state.OnlineState`, O(1) per answer) that follows the fit-time
    kernels exactly. Times (``times=``, seconds) must not decrease for a student.
    """

    def __init__(self, model: LogisticKT, n_students: int, rng, abilities=None) -> None:
        super().__init__(model, n_students, rng)
        if abilities is not None:
            ab = np.asarray(abilities, dtype=float).reshape(-1)
            if ab.shape[0] != self.n_students or not np.all(np.isfinite(ab)):
                raise ValueError(f"abilities must be {self.n_students} finite numbers")
        elif model.has_ability:
            ab = rng.normal(0.0, model.ability_sd_, self.n_students)
        else:
            ab = np.zeros(self.n_students)
        self.abilities = ab
        self.state = OnlineState(self.n_students, model.time_windows_)

    def _sorted(self, rows: pd.DataFrame):
        tl = build_timeline(rows)
        st = tl.students.to_numpy(dtype=np.int64)[tl.student]
        time = None
        if self.model.time_windows_:
            if "timestamp" not in rows:
                raise ValueError("the model has time windows: give times= at every step")
            ts = pd.to_datetime(rows["timestamp"]).to_numpy()[tl.row_index]
            time = (ts - np.datetime64(0, "s")) / np.timedelta64(1, "s")
        return tl, st, time

    def _p(self, rows: pd.DataFrame) -> np.ndarray:
        m = self.model
        tl, st, time = self._sorted(rows)
        counts, seq = self.state.read(st, tl.skill_id, tl.item_id, time)
        blocks = m._blocks(tl, m._items(tl, fitting=False), StateFeatures(counts, seq))
        eta, _ = linear_predictor(tl, blocks, m.layout_, m.intercept_)
        out = np.empty(tl.n_rows)
        out[tl.row_index] = sigmoid(eta + self.abilities[st])
        return out

    def _record(self, rows: pd.DataFrame, answers: np.ndarray, uniforms=None) -> None:
        super()._record(rows, answers)
        tl, st, time = self._sorted(rows)
        y = np.asarray(answers, dtype=float)[tl.row_index]
        self.state.add(st, tl.skill_id, tl.item_id, y, time)
