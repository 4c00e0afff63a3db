"""The BKT variants of :mod:`edstudy.bkt` with the :mod:`edstudy.kt` API and a simulator.

:class:`BKTModel` holds an :class:`edstudy.bkt.BKT` (``estimator_``) and delegates fit, predict
and parameters to it, so every BKT variant is scored, saved and simulated like the other student
models. BKT predicts each skill row from the earlier rows of its own (student, skill) sequence, so
the rows of a multi-skill problem (one ``order``, different skills) never see each other.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from edstudy.bkt import BKT, BKTParams
from edstudy.bkt.params import ALL
from edstudy.kt import _base as B
from edstudy.kt.simulation import AVERAGE_ITEM, Simulation, simulate_schedule

__all__ = ["BKTModel", "BKTSimulation"]


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


class BKTModel(B.KTModel):
    """A BKT variant (:class:`edstudy.bkt.BKT`, EM) as a :mod:`edstudy.kt` student model.

    Parameters
    ----------
    forgets, item_guess_slip, student_prior, student_learn, student_effect_sd, max_guess,
    max_slip, restarts, max_iter, tol, n_jobs
        As in :class:`edstudy.bkt.BKT`.
    handle_unknown : {"average", "error"}, default "average"
        As in :class:`edstudy.bkt.BKT` (the default differs: held-out students meet unseen items).
    seed : int or None, default 0
    """

    name = "bkt"

    def __init__(
        self,
        *,
        forgets: bool = False,
        item_guess_slip: bool = False,
        student_prior: bool = False,
        student_learn: bool = False,
        student_effect_sd: float = 1.0,
        max_guess: float = 0.5,
        max_slip: float = 0.5,
        restarts: int = 5,
        max_iter: int = 200,
        tol: float = 1e-6,
        handle_unknown: str = "average",
        seed: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.forgets = forgets
        self.item_guess_slip = item_guess_slip
        self.student_prior = student_prior
        self.student_learn = student_learn
        self.student_effect_sd = student_effect_sd
        self.max_guess = max_guess
        self.max_slip = max_slip
        self.restarts = restarts
        self.max_iter = max_iter
        self.tol = tol
        self.handle_unknown = handle_unknown
        self.seed = seed
        self.n_jobs = n_jobs
        self._check_options()

    def _check_options(self) -> None:
        self._bkt()  # BKT validates every option with its own messages

    def _bkt(self) -> BKT:
        return BKT(**self.get_params())

    # ------------------------------------------------------------------ estimator
    def fit(self, log: pd.DataFrame) -> BKTModel:
        """Fit by EM (see :meth:`edstudy.bkt.BKT.fit`); returns self."""
        start = time.perf_counter()
        self.estimator_ = self._bkt().fit(log)
        self.fit_seconds_ = time.perf_counter() - start
        self._is_fitted = True
        return self

    def predict_proba(self, log: pd.DataFrame) -> np.ndarray:
        """One-step-ahead P(correct) of every row (see :meth:`edstudy.bkt.BKT.predict_proba`)."""
        self._fitted()
        return self.estimator_.predict_proba(log)

    @property
    def params_(self) -> pd.DataFrame:
        """BKT's tidy parameters ``skill, parameter, class, value``."""
        self._fitted()
        return self.estimator_.params_

    @property
    def skills_(self) -> pd.Index:
        self._fitted()
        return self.estimator_.skills_

    def coverage(self, log: pd.DataFrame) -> dict[str, int]:
        """Rows whose skill (or, for KT-IDEM, item) was not seen in fit."""
        self._fitted()
        p = self.estimator_.model_
        out = {"rows": len(log), "unseen_skill": int((~log["skill_id"].isin(p.skills)).sum())}
        if p.item_guess_slip and "item_id" in log:
            out["unseen_item"] = int((~log["item_id"].isin(set(p.gs_label))).sum())
        return out

    # ------------------------------------------------------------------ JSON
    def _state(self) -> dict:
        e = self.estimator_
        ll = e.log_likelihood_
        return {
            "params": e.model_.to_dict(),
            "log_likelihood": None if not np.isfinite(ll) else float(ll),
            "n_iter": int(e.n_iter_),
            "converged": bool(e.converged_),
            "fit_seconds": float(self.fit_seconds_),
        }

    def _load_state(self, state: Mapping) -> None:
        params = B.need(state, "params", dict)
        try:
            bp = BKTParams.from_dict(params)
        except KeyError as err:
            raise ValueError(f"missing key state.params.{err.args[0]}") from None
        except ValueError as err:
            raise ValueError(f"bad key state.params: {err}") from None
        opts = {k: v for k, v in self.get_params().items()}
        for flag in ("forgets", "item_guess_slip", "student_prior", "student_learn"):
            opts.pop(flag)
        e = BKT.from_params(bp, **opts)
        ll = state.get("log_likelihood")
        e.log_likelihood_ = float("nan") if ll is None else float(ll)
        e.n_iter_ = int(B.need(state, "n_iter", int))
        e.converged_ = bool(B.need(state, "converged", bool))
        self.estimator_ = e
        self.fit_seconds_ = float(B.need(state, "fit_seconds", (int, float)))

    # ------------------------------------------------------------------ simulation
    def simulator(
        self, n_students: int, seed: int | np.random.Generator | None = None
    ) -> BKTSimulation:
        """New simulated students (see :mod:`edstudy.kt.simulation`): initial knowledge drawn
        from the prior (individualized models: per-student logit effects drawn from
        Normal(0, student_effect_sd^2)), answers ``1 - slip`` / ``guess`` given the true state,
        then the learning (and forgetting) transition."""
        self._fitted()
        rng = (
            seed
            if isinstance(seed, np.random.Generator)
            else np.random.default_rng(self.seed if seed is None else seed)
        )
        return BKTSimulation(self, n_students, rng)

    def simulate(
        self, schedule: pd.DataFrame, seed: int | np.random.Generator | None = None
    ) -> pd.DataFrame:
        """Draw the answers of a whole schedule (see :func:`simulate_schedule`)."""
        sim = self.simulator(int(schedule["student_id"].nunique()), seed)
        return simulate_schedule(sim, schedule)


class BKTSimulation(Simulation):
    """Simulated students of a BKT model: a hidden known/unknown state per skill."""

    def __init__(self, model: BKTModel, n_students: int, rng: np.random.Generator) -> None:
        super().__init__(model, n_students, rng)
        p: BKTParams = model.estimator_.model_
        table = p.skill_table()
        self.skills = pd.Index(list(p.skills), dtype=object)
        self.table = table
        self.gs = {
            (p.skills[k], lab): (g, s)
            for k, lab, g, s in zip(p.gs_skill, p.gs_label, p.guess, p.slip, strict=True)
            if lab != ALL
        }
        sd = p.student_effect_sd or 1.0
        n, k = self.n_students, len(self.skills)
        c = rng.normal(0.0, sd, n) if p.student_prior is not None else np.zeros(n)
        b = rng.normal(0.0, sd, n) if p.student_learn is not None else None
        prior = _sigmoid(_logit(table["prior"].to_numpy())[None, :] + c[:, None])
        learn = table["learn"].to_numpy()[None, :]
        self.learn = (
            np.broadcast_to(learn, (n, k)) if b is None else _sigmoid(_logit(learn) + b[:, None])
        )
        self.forget = table["forget"].to_numpy()
        self.known = rng.random((n, k)) < prior

    def mastered(self, threshold: float | None = None, skills=None, *, students=None):
        """The true hidden states (threshold None, the default here) or P(correct) on an
        average item >= threshold, (m, K) bool."""
        if threshold is not None:
            return super().mastered(threshold, skills, students=students)
        s = self._students(students)
        order = pd.Index(list(self.model.skills_), dtype=object)  # the columns of known
        cols = order.get_indexer(order if skills is None else list(skills))
        if (cols < 0).any():
            raise ValueError("skills not in the model")
        return self.known[np.ix_(s, cols)].copy()

    def _cols(self, rows: pd.DataFrame) -> np.ndarray:
        k = self.skills.get_indexer(rows["skill_id"].to_numpy(dtype=object))
        if (k < 0).any():
            bad = rows["skill_id"].to_numpy(dtype=object)[k < 0][:5]
            raise ValueError(f"skills not in the model: {list(bad)}")
        return k

    def _p(self, rows: pd.DataFrame) -> np.ndarray:
        st = rows["student_id"].to_numpy(dtype=np.int64)
        k = self._cols(rows)
        guess = self.table["guess"].to_numpy()[k].copy()
        slip = self.table["slip"].to_numpy()[k].copy()
        if self.gs:
            for j, (sk, it) in enumerate(zip(rows["skill_id"], rows["item_id"], strict=True)):
                if it is not AVERAGE_ITEM and (sk, it) in self.gs:
                    guess[j], slip[j] = self.gs[(sk, it)]
        return np.where(self.known[st, k], 1.0 - slip, guess)

    def _record(self, rows: pd.DataFrame, answers: np.ndarray, uniforms=None) -> None:
        super()._record(rows, answers)
        st = rows["student_id"].to_numpy(dtype=np.int64)
        k = self._cols(rows)
        u = self.rng.random(st.shape[0]) if uniforms is None else uniforms
        kn = self.known[st, k]
        self.known[st, k] = np.where(kn, u >= self.forget[k], u < self.learn[st, k])

    def p_skills(self, skills: Any = None, *, students=None) -> np.ndarray:
        """P(correct) now on an average item of every skill, from the true states, (m, K)."""
        s = self._students(students)
        cols = (
            np.arange(len(self.skills)) if skills is None else self.skills.get_indexer(list(skills))
        )
        if (cols < 0).any():
            raise ValueError("skills not in the model")
        g = self.table["guess"].to_numpy()[cols]
        sl = self.table["slip"].to_numpy()[cols]
        return np.where(self.known[np.ix_(s, cols)], 1.0 - sl, g)
