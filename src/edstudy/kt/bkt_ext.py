"""BKT with student ability and item difficulty (Khajah, Lindsey & Mozer 2016's extensions).

Per skill k the usual hidden known/unknown state with ``prior, learn`` (and ``forget``); the
answer of student s on item i of skill k in state z (0 unknown, 1 known) is correct with
probability ``sigmoid(gamma_kz + ability_s - difficulty_i)``: the student's ability and the item's
difficulty shift the logits of both guess (``gamma_k0``) and not-slip (``gamma_k1``), as in
Khajah et al.'s latent-factor knowledge tracing, with Normal priors on abilities and difficulties.

Fit (:meth:`BKTExt.fit`): the per-skill parameters start from an :class:`edstudy.bkt.BKT` fit
(its EM with restarts, reused as is), then EM runs on the whole model: the E-step is a scaled
forward-backward pass per (student, skill) sequence with each row's own emission probabilities;
the M-step updates prior / learn / forget in closed form and the emission logits, abilities and
difficulties by exact one-dimensional Newton steps (each row involves one parameter of each
block, so a block's parameters are independent given the others), with the spread of the
difficulties re-estimated each iteration (empirical Bayes, ``sd^2 = mean(x^2 + posterior
variance)``) and that of the abilities after the first iteration and at the end by maximizing the
marginal likelihood of the log with the abilities integrated out, by the recursion used to predict
(the empirical-Bayes update drives it towards 0 here: the hidden states absorb part of each
student's level).

Predict (:meth:`BKTExt.predict_proba`): the student's ability is never taken from the fit; it is
inferred online from the student's earlier answers on *all* skills (a 21-point Gauss-Hermite
grid of the Normal(0, ability_sd^2) prior; for each grid value every skill keeps its own forward
filter), so a held-out student benefits from their first answers and no prediction depends on
its own or later answers. Items or skills unseen in fit take the weighted average difficulty of
the skill's items / the average skill parameters (``handle_unknown="average"``).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from edstudy.bkt import BKT
from edstudy.bkt.model import ConvergenceWarning
from edstudy.kt import _base as B
from edstudy.kt._ability import grid, mml_sd
from edstudy.kt._hmm import Emission, forward_backward, online_filter
from edstudy.kt.features import build_timeline
from edstudy.kt.simulation import AVERAGE_ITEM, Simulation, simulate_schedule
from edstudy.schema import validate_log

__all__ = ["BKTExt"]

_SD_FLOOR = 0.05
_SKILL_PARAMS = ("prior", "learn", "forget", "gamma0", "gamma1")


def _sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


class BKTExt(B.KTModel):
    """BKT with forgetting, student ability and item difficulty (see the module docstring).

    Parameters
    ----------
    forgets : bool, default True
        Estimate P(forget) per skill.
    ability : bool, default True
        Student abilities (Normal(0, ability_sd^2), the spread estimated in fit).
    item_difficulty : bool, default True
        Item difficulties (Normal(0, difficulty_sd^2)); needs ``item_id`` (ignored without it).
    restarts : int, default 3
        Restarts of the initial per-skill BKT fit.
    max_iter : int, default 15
        EM iterations of the full model (held-out AUC on ASSISTments 2009 is flat from about 8).
    tol : float, default 1e-5
        Stop when the penalized log-likelihood per scored row changes by less than this (the
        re-estimated spreads change the penalty, so it need not rise monotonically).
    newton_steps : int, default 1
        Newton sweeps over the emission blocks per M-step (each block's steps run until the
        largest is below 1e-3, at most 4).
    handle_unknown : {"average", "error"}, default "average"
    seed : int or None, default 0
    """

    name = "bkt_ext"

    def __init__(
        self,
        *,
        forgets: bool = True,
        ability: bool = True,
        item_difficulty: bool = True,
        restarts: int = 3,
        max_iter: int = 15,
        tol: float = 1e-5,
        newton_steps: int = 1,
        handle_unknown: str = "average",
        seed: int | None = 0,
    ) -> None:
        self.forgets = forgets
        self.ability = ability
        self.item_difficulty = item_difficulty
        self.restarts = restarts
        self.max_iter = max_iter
        self.tol = tol
        self.newton_steps = newton_steps
        self.handle_unknown = handle_unknown
        self.seed = seed
        self._check_options()

    def _check_options(self) -> None:
        for name in ("forgets", "ability", "item_difficulty"):
            B.check_bool(name, getattr(self, name))
        B.check_int("restarts", self.restarts, 1)
        B.check_int("max_iter", self.max_iter, 0)
        B.check_number("tol", self.tol, ">= 0", lambda v: v >= 0)
        B.check_int("newton_steps", self.newton_steps, 1)
        B.check_choice("handle_unknown", self.handle_unknown, ("average", "error"))
        B.check_seed(self.seed)

    # ------------------------------------------------------------------ fit
    def fit(self, log: pd.DataFrame) -> BKTExt:
        """Fit by EM (see the module docstring); returns self."""
        self._check_options()
        start = time.perf_counter()
        v = validate_log(log)
        scored = v[v["correct"].notna().to_numpy()]
        if scored.empty or scored["correct"].nunique() < 2:
            raise ValueError("fit needs scored rows with both correct and incorrect answers")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            init = BKT(forgets=self.forgets, restarts=self.restarts, seed=self.seed).fit(scored)
        table = init.model_.skill_table()
        skills = pd.Index(list(table.index), dtype=object)
        tl = build_timeline(v[v["skill_id"].isin(skills).to_numpy()])
        use_items = self.item_difficulty and tl.has_items
        k_of = skills.get_indexer(tl.skill_id)
        # sequences: rows of each (student, skill) pair in order
        seq = np.lexsort((tl.attempt, tl.skill_key))
        key_sorted = tl.skill_key[seq]
        starts = np.flatnonzero(np.r_[True, key_sorted[1:] != key_sorted[:-1]])
        offsets = np.append(starts, len(seq)).astype(np.int64)
        seq_skill = k_of[seq][starts]
        y = tl.correct[seq]
        k_row = k_of[seq]
        st_row = tl.student[seq]
        items = (
            pd.Index(pd.unique(tl.item_id[seq][~np.isnan(y)]), dtype=object)
            if use_items
            else pd.Index([], dtype=object)
        )
        it_row = items.get_indexer(tl.item_id[seq]) if use_items else np.full(len(seq), -1)
        n_st, n_it, n_k = len(tl.students), len(items), len(skills)
        prior = table["prior"].to_numpy().copy()
        learn = table["learn"].to_numpy().copy()
        forget = table["forget"].to_numpy().copy() if self.forgets else np.zeros(n_k)
        g0 = _logit(table["guess"].to_numpy())
        g1 = _logit(1.0 - table["slip"].to_numpy())
        ab = np.zeros(n_st)
        dif = np.zeros(n_it)
        sd_ab, sd_dif = 1.0, 1.0
        ok = ~np.isnan(y)
        yv = np.where(ok, y, 0.0)
        k_tl = k_of
        it_tl = items.get_indexer(tl.item_id) if use_items else np.full(tl.n_rows, -1)

        def marginal(sd: float) -> float:
            """Log-likelihood of the log with abilities ~ Normal(0, sd^2) integrated out."""
            sh = -np.where(it_tl >= 0, dif[np.maximum(it_tl, 0)], 0.0) if use_items else 0.0
            sh = np.zeros(tl.n_rows) + sh
            k = k_tl
            return online_filter(
                tl.attempt_start,
                tl.student,
                tl.skill_key,
                tl.correct,
                g0[k],
                g1[k],
                sh,
                prior[k],
                learn[k],
                forget[k],
                *grid(sd),
            )[1]

        history = []
        n_iter = 0
        converged = self.max_iter == 0
        for it in range(self.max_iter + 1):
            shift = (ab[st_row] if self.ability else 0.0) - (
                np.where(it_row >= 0, dif[np.maximum(it_row, 0)], 0.0) if use_items else 0.0
            )
            p0 = _sigmoid(g0[k_row] + shift)
            p1 = _sigmoid(g1[k_row] + shift)
            post, stats, ll = forward_backward(
                offsets, y, p0, p1, prior[seq_skill], learn[seq_skill], forget[seq_skill]
            )
            pen = (np.sum(ab**2) / (2 * sd_ab**2) if self.ability else 0.0) + (
                np.sum(dif**2) / (2 * sd_dif**2) if use_items else 0.0
            )
            history.append(ll - pen)
            if it > 0 and abs(history[-1] - history[-2]) < self.tol * ok.sum():
                converged = True
                break
            if it == self.max_iter:
                break
            n_iter = it + 1
            # closed-form transition updates
            cnt = np.bincount(seq_skill, minlength=n_k)
            agg = np.column_stack([np.bincount(seq_skill, stats[:, j], n_k) for j in range(5)])
            prior = np.clip(agg[:, 0] / np.maximum(cnt, 1), 1e-4, 1 - 1e-4)
            learn = np.clip(agg[:, 1] / np.maximum(agg[:, 2], 1e-12), 1e-4, 1 - 1e-4)
            if self.forgets:
                forget = np.clip(agg[:, 3] / np.maximum(agg[:, 4], 1e-12), 0.0, 1 - 1e-4)
            # Newton sweeps over the emission blocks
            w1 = np.where(ok, post, 0.0)
            w0 = np.where(ok, 1.0 - post, 0.0)
            state = Emission(y=yv, w0=w0, w1=w1, k=k_row, st=st_row, it=it_row)
            for _ in range(self.newton_steps):
                state.newton("gamma", g0, g1, ab, dif, sd_ab, sd_dif)
                if self.ability:
                    state.newton("ability", g0, g1, ab, dif, sd_ab, sd_dif)
                if use_items:
                    state.newton("difficulty", g0, g1, ab, dif, sd_ab, sd_dif)
            # empirical Bayes spreads from the converged modes: sd^2 = mean(mode^2 + 1 / hess)
            if self.ability and n_iter == 1:
                sd_ab = mml_sd(marginal)
            if use_items:
                h = state.hessian("difficulty", g0, g1, ab, dif, sd_dif, n_it)
                sd_dif = max(float(np.sqrt(np.mean(dif**2 + 1 / h))), _SD_FLOOR)
        if self.ability:
            sd_ab = mml_sd(marginal, near=sd_ab)
        self.skills_ = skills
        self.skill_params_ = pd.DataFrame(
            {"prior": prior, "learn": learn, "forget": forget, "gamma0": g0, "gamma1": g1},
            index=skills,
        )
        w_items = (
            np.bincount(it_row[ok & (it_row >= 0)], minlength=n_it).astype(float)
            if use_items
            else np.zeros(0)
        )
        self.difficulty_ = pd.Series(dif, index=items, name="difficulty")
        item_skill = np.zeros(0, dtype=object)
        if use_items:
            m = ok & (it_row >= 0)
            cnt = pd.DataFrame({"item": it_row[m], "skill": k_row[m]}).value_counts()
            cnt = cnt.reset_index(name="n").sort_values(
                ["item", "n", "skill"], ascending=[True, False, True]
            )
            top = cnt.drop_duplicates("item").set_index("item")["skill"].reindex(range(n_it))
            item_skill = skills.to_numpy(dtype=object)[top.to_numpy(dtype=np.int64)]
        self.item_skill_ = pd.Series(item_skill, index=items, dtype=object)
        self.item_weight_ = pd.Series(w_items, index=items)
        self.skill_weight_ = pd.Series(
            np.bincount(k_row[ok], minlength=n_k).astype(float), index=skills
        )
        self.abilities_ = pd.Series(
            ab if self.ability else np.zeros(n_st), index=tl.students, name="ability"
        )
        self.ability_sd_ = float(sd_ab) if self.ability else 0.0
        self.difficulty_sd_ = float(sd_dif) if use_items else 0.0
        self.uses_items_ = bool(use_items)
        self.history_ = np.array(history)
        self.log_likelihood_ = float(ll)
        self.n_iter_ = n_iter
        self.converged_ = bool(converged)
        self.fit_seconds_ = time.perf_counter() - start
        self._is_fitted = True
        return self

    # ------------------------------------------------------------------ predict
    def _skill_rows(self, skill_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row skill parameters (5, n) with unseen skills averaged; the skill codes."""
        k = self.skills_.get_indexer(skill_ids)
        if (k < 0).any() and self.handle_unknown == "error":
            bad = pd.unique(skill_ids[k < 0])
            raise ValueError(
                f"skills not seen in fit: {list(bad[:5])} ({len(bad)} in all); pass "
                "handle_unknown='average' to predict them with averaged skill parameters"
            )
        t = self.skill_params_
        w = self.skill_weight_.to_numpy()
        avg = (t.to_numpy() * w[:, None]).sum(axis=0) / max(w.sum(), 1e-12)
        ext = np.vstack([t.to_numpy(), avg])
        return ext[np.where(k >= 0, k, len(t))].T, k

    def _item_shift(self, item_ids: np.ndarray, skill_ids: np.ndarray) -> np.ndarray:
        """``-difficulty`` per row; unseen items take their skill's weighted mean difficulty."""
        if not self.uses_items_:
            return np.zeros(len(item_ids))
        idx = self.difficulty_.index.get_indexer(item_ids)
        miss = idx < 0
        if miss.any() and self.handle_unknown == "error":
            bad = [x for x in pd.unique(item_ids[miss]) if x is not AVERAGE_ITEM]
            if bad:
                raise ValueError(
                    f"items not seen in fit: {bad[:5]} ({len(bad)} in all); pass "
                    "handle_unknown='average' to give them their skill's average difficulty"
                )
        d = self.difficulty_.to_numpy()
        w = self.item_weight_.to_numpy()
        glob = float(np.sum(d * w) / np.sum(w)) if np.sum(w) > 0 else 0.0
        frame = pd.DataFrame({"skill": self.item_skill_.to_numpy(), "dw": d * w, "w": w})
        per = frame.groupby("skill", sort=False)[["dw", "w"]].sum()
        per_skill = (per["dw"] / per["w"].where(per["w"] > 0)).fillna(glob)
        fallback = pd.Series(skill_ids).map(per_skill).fillna(glob).to_numpy(dtype=float)
        return -np.where(miss, fallback, d[np.maximum(idx, 0)])

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        return grid(self.ability_sd_ if self.ability else 0.0)

    def predict_proba(self, log: pd.DataFrame) -> np.ndarray:
        """One-step-ahead P(correct) of every row, in the order of ``log``'s rows.

        Row ``t`` uses the earlier rows of its (student, skill) sequence for the knowledge state
        and the student's earlier attempts on every skill for the ability; rows sharing its
        ``order`` (a multi-skill problem) are not seen.
        """
        self._fitted()
        v = validate_log(log)
        tl = build_timeline(v)
        sp_, _ = self._skill_rows(tl.skill_id)
        items = tl.item_id if tl.has_items else np.full(tl.n_rows, AVERAGE_ITEM, dtype=object)
        shift = self._item_shift(items, tl.skill_id)
        nodes, lw0 = self._grid()
        p, _ = online_filter(
            tl.attempt_start,
            tl.student,
            tl.skill_key,
            tl.correct,
            sp_[3],
            sp_[4],
            shift,
            sp_[0],
            sp_[1],
            sp_[2],
            nodes,
            lw0,
        )
        out = np.empty(tl.n_rows)
        out[tl.row_index] = p
        return out

    def coverage(self, log: pd.DataFrame) -> dict[str, int]:
        """Rows whose skill, item or student was not seen in fit."""
        self._fitted()
        out = {"rows": len(log), "unseen_skill": int((~log["skill_id"].isin(self.skills_)).sum())}
        if self.uses_items_:
            out["unseen_item"] = (
                int((~log["item_id"].isin(self.difficulty_.index)).sum())
                if "item_id" in log
                else len(log)
            )
        out["unseen_student"] = int((~log["student_id"].isin(self.abilities_.index)).sum())
        return out

    # ------------------------------------------------------------------ parameters
    @property
    def params_(self) -> pd.DataFrame:
        """Tidy ``term, level, value``: per skill ``prior, learn, forget, guess, slip`` (guess and
        slip of a student of ability 0 on an item of difficulty 0), per item ``difficulty``,
        per student ``ability``, and ``ability_sd, difficulty_sd``."""
        self._fitted()
        t = self.skill_params_
        vals = {
            "prior": t["prior"],
            "learn": t["learn"],
            "forget": t["forget"],
            "guess": _sigmoid(t["gamma0"]),
            "slip": 1.0 - _sigmoid(t["gamma1"]),
        }
        parts = [
            pd.DataFrame({"term": k, "level": self.skills_.to_numpy(dtype=object), "value": v})
            for k, v in vals.items()
        ]
        parts.append(
            pd.DataFrame(
                {
                    "term": ["ability_sd", "difficulty_sd"],
                    "level": [None, None],
                    "value": [self.ability_sd_, self.difficulty_sd_],
                }
            )
        )
        for term, s in (("difficulty", self.difficulty_), ("ability", self.abilities_)):
            parts.append(
                pd.DataFrame(
                    {"term": term, "level": s.index.to_numpy(dtype=object), "value": s.to_numpy()}
                )
            )
        return pd.concat(parts, ignore_index=True)

    # ------------------------------------------------------------------ JSON
    def _state(self) -> dict:
        def ids(index):
            return [B.plain(x) for x in index]

        return {
            "skills": ids(self.skills_),
            "skill_params": {c: [float(x) for x in self.skill_params_[c]] for c in _SKILL_PARAMS},
            "skill_weight": [float(x) for x in self.skill_weight_],
            "items": ids(self.difficulty_.index),
            "difficulty": [float(x) for x in self.difficulty_],
            "item_skill": ids(self.item_skill_),
            "item_weight": [float(x) for x in self.item_weight_],
            "students": ids(self.abilities_.index),
            "abilities": [float(x) for x in self.abilities_],
            "ability_sd": self.ability_sd_,
            "difficulty_sd": self.difficulty_sd_,
            "uses_items": self.uses_items_,
            "fit": {
                "history": [float(x) for x in self.history_],
                "log_likelihood": self.log_likelihood_,
                "n_iter": self.n_iter_,
                "converged": self.converged_,
                "fit_seconds": self.fit_seconds_,
            },
        }

    def _load_state(self, state: Mapping) -> None:
        skills = B.need(state, "skills", list)
        sp_ = B.need(state, "skill_params", dict)
        cols = {}
        for c in _SKILL_PARAMS:
            col = B.need(sp_, c, list, "state.skill_params")
            if len(col) != len(skills):
                raise ValueError(f"state.skill_params.{c} must have {len(skills)} values")
            cols[c] = np.asarray(col, dtype=float)
        self.skills_ = pd.Index(skills, dtype=object)
        self.skill_params_ = pd.DataFrame(cols, index=self.skills_)
        self.skill_weight_ = pd.Series(
            np.asarray(B.need(state, "skill_weight", list), dtype=float), index=self.skills_
        )
        items = pd.Index(B.need(state, "items", list), dtype=object)
        for key in ("difficulty", "item_skill", "item_weight"):
            if len(B.need(state, key, list)) != len(items):
                raise ValueError(f"state.{key} must have {len(items)} values")
        self.difficulty_ = pd.Series(np.asarray(state["difficulty"], dtype=float), index=items)
        self.item_skill_ = pd.Series(np.array(state["item_skill"], dtype=object), index=items)
        self.item_weight_ = pd.Series(np.asarray(state["item_weight"], dtype=float), index=items)
        students = pd.Index(B.need(state, "students", list), dtype=object)
        ab = B.need(state, "abilities", list)
        if len(ab) != len(students):
            raise ValueError(f"state.abilities must have {len(students)} values")
        self.abilities_ = pd.Series(np.asarray(ab, dtype=float), index=students, name="ability")
        self.ability_sd_ = float(B.need(state, "ability_sd", (int, float)))
        self.difficulty_sd_ = float(B.need(state, "difficulty_sd", (int, float)))
        self.uses_items_ = bool(B.need(state, "uses_items", bool))
        fit = B.need(state, "fit", dict)
        self.history_ = np.asarray(B.need(fit, "history", list, "state.fit"), dtype=float)
        self.log_likelihood_ = float(B.need(fit, "log_likelihood", (int, float), "state.fit"))
        self.n_iter_ = int(B.need(fit, "n_iter", int, "state.fit"))
        self.converged_ = bool(B.need(fit, "converged", bool, "state.fit"))
        self.fit_seconds_ = float(B.need(fit, "fit_seconds", (int, float), "state.fit"))

    # ------------------------------------------------------------------ simulation
    def simulator(
        self,
        n_students: int,
        seed: int | np.random.Generator | None = None,
        *,
        abilities: np.ndarray | None = None,
        known: np.ndarray | None = None,
    ) -> BKTExtSimulation:
        """New simulated students: abilities from Normal(0, ability_sd_^2) (or given), initial
        knowledge from each skill's prior (or given: bool (n_students, K), the columns in the
        order of ``skills_``), answers ``sigmoid(gamma_kz + ability - difficulty)`` given the
        true state, then the learning / forgetting transition."""
        self._fitted()
        rng = (
            seed
            if isinstance(seed, np.random.Generator)
            else np.random.default_rng(self.seed if seed is None else seed)
        )
        return BKTExtSimulation(self, n_students, rng, abilities, known)

    def simulate(
        self, schedule: pd.DataFrame, seed: int | np.random.Generator | None = None
    ) -> pd.DataFrame:
        """Draw the answers of a whole schedule (see :func:`simulate_schedule`); the abilities
        drawn are in ``attrs["abilities"]``."""
        sim = self.simulator(int(schedule["student_id"].nunique()), seed)
        out = simulate_schedule(sim, schedule)
        students = pd.Index(pd.unique(schedule["student_id"])).sort_values()
        out.attrs["abilities"] = pd.Series(sim.abilities, index=students, name="ability")
        return out


class BKTExtSimulation(Simulation):
    """Simulated students of :class:`BKTExt` (hidden state per skill, true ability)."""

    def __init__(self, model: BKTExt, n_students: int, rng, abilities=None, known=None) -> None:
        super().__init__(model, n_students, rng)
        n, k = self.n_students, len(model.skills_)
        if abilities is not None:
            ab = np.asarray(abilities, dtype=float).reshape(-1)
            if ab.shape[0] != n or not np.all(np.isfinite(ab)):
                raise ValueError(f"abilities must be {n} finite numbers")
        else:
            ab = rng.normal(0.0, model.ability_sd_, n) if model.ability else np.zeros(n)
        self.abilities = ab
        if known is not None:
            kn = np.asarray(known)
            if kn.shape != (n, k) or kn.dtype != np.bool_:
                raise ValueError(f"known must be a ({n}, {k}) bool array")
            self.known = kn.copy()
        else:
            self.known = rng.random((n, k)) < model.skill_params_["prior"].to_numpy()[None, :]

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
        k = self.model.skills_.get_indexer(rows["skill_id"].to_numpy(dtype=object))
        if (k < 0).any():
            bad = rows["skill_id"].to_numpy(dtype=object)[k < 0][:5]
            raise ValueError(f"skills not in the model: {list(bad)}")
        return k

    def _p(self, rows: pd.DataFrame) -> np.ndarray:
        m = self.model
        st = rows["student_id"].to_numpy(dtype=np.int64)
        k = self._cols(rows)
        t = m.skill_params_
        shift = m._item_shift(rows["item_id"].to_numpy(dtype=object), rows["skill_id"].to_numpy())
        gam = np.where(self.known[st, k], t["gamma1"].to_numpy()[k], t["gamma0"].to_numpy()[k])
        return _sigmoid(gam + self.abilities[st] + shift)

    def _record(self, rows: pd.DataFrame, answers: np.ndarray, uniforms=None) -> None:
        super()._record(rows, answers)
        st = rows["student_id"].to_numpy(dtype=np.int64)
        k = self._cols(rows)
        t = self.model.skill_params_
        u = self.rng.random(st.shape[0]) if uniforms is None else uniforms
        kn = self.known[st, k]
        learn, forget = t["learn"].to_numpy()[k], t["forget"].to_numpy()[k]
        self.known[st, k] = np.where(kn, u >= forget, u < learn)
