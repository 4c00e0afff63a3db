"""The simulation engine: a cohort works through a curriculum under a strategy, in lock-step ticks.

Every tick, every active student gets exactly one practice opportunity. Before it, the strategy's
rules are evaluated for all active students at once (numpy arrays over students); navigation
actions (``advance``, ``accelerate``) move a student to another skill and the rules are evaluated
again for that student within the same tick, so navigation costs no tick and no time.

What one opportunity is (ground truth, standard BKT so :mod:`edstudy.bkt` can recover it)
    The student answers an item of the current skill: correct with probability ``1 - slip`` if
    they truly know the skill, ``guess`` otherwise (their own per-skill guess/slip). Then they
    learn from the opportunity's activity: an unknown skill becomes known with probability
    ``1 - (1 - learn)^r`` where ``learn`` is the skill's rate and
    ``r = learning_speed * activity.learn_multiplier * (1 + meshing_effect if the activity is the
    student's true best medium) * (prerequisite_penalty if a prerequisite is not truly known)``.
    No forgetting, unless the cohort carries ``forget`` (cohorts drawn from a fitted forgets
    model): then a known skill is forgotten with that probability after an opportunity on it.
    A cohort's ``learn`` (n, K), when given, replaces the skill's rate per student. The tutor
    updates its mastery estimate with :func:`edstudy.bkt.update_mastery`
    using the curriculum's tutor parameters.

Another student model (``responder=``, :mod:`edstudy.sim.responder`)
    The answer is drawn with the responder's P(correct) (from the same uniform of the student's
    own stream), the BKT transition above is skipped (the responder moves its own state) and
    ``known`` follows the responder's mastery, so the outcomes' ground-truth columns (pre- and
    post-test, ``mastered_true``, ``true_expected_posttest``, over- and under-practice) are the
    responder's. Without a responder the BKT path is unchanged, bit for bit.

The response log (one row per practice opportunity, all scored)
    ``student_id, skill_id, order, correct, item_id, activity, chosen, class_id, school_id, arm,
    duration_s, hints``. ``activity`` is the medium (or remediation activity) of *this*
    opportunity; its learning effect shows in the student's *next* answer on the skill, as in BKT
    where the transition follows the observation. ``order`` counts the student's opportunities
    across skills (0, 1, 2, ...). ``chosen`` is True when the student picked the medium from an
    offered choice. ``hints`` is 1 on ``hint`` rows, else 0. There are no unscored rows.
    Pre-test and post-test answers are **not** in the log (they are assessments outside the
    tutor, and would add learning-free observations that standard BKT cannot model); their
    proportions correct are the outcomes' ``pretest`` and ``posttest``.

The outcomes (one row per student)
    ``student_id, arm, class_id, school_id, pretest, posttest`` (proportions correct),
    ``skills_mastered`` (skills whose *estimated* mastery ended >= 0.95), ``opportunities``,
    ``time_on_task`` (seconds), ``dropped_out`` (quit the tutor), ``completed`` (finished every
    skill or was stopped by a rule), ``engagement`` (mean over the student's opportunities, [0, 1]),
    ``final_result`` (``completed``, ``stopped``, ``dropped_out``, ``out_of_time``,
    ``out_of_steps``), process measures ``skills_practiced, skills_placed_out, remediations,
    teacher_alerts, chosen_share``, survey columns ``stated_preference, goal``, and ground truth:

    ===========================  ===================================================================
    ``true_best_medium``         medium that teaches this student best (when meshing_effect > 0)
    ``learning_speed``           true learning-speed multiplier
    ``true_prior_mastered``      skills truly known before the tutor
    ``mastered_true``            skills truly known at the end
    ``true_expected_posttest``   expected post-test score given the true final knowledge (no test
                                 noise)
    ``true_matched_share``       share of opportunities in the student's true best medium
    ``over_practice``            opportunities on skills the student already truly knew
    ``under_practice``           skills the tutor moved on from while they were truly unknown
                                 (Lee & Brunskill 2012)
    ===========================  ===================================================================

The post-test is taken by every student, including those who quit the tutor (it is given in
class).

Randomness
    All randomness comes from ``seed``: the same inputs and seed give the same tables, bit for bit.
    Every number is drawn from the student's own counter-based stream (Philox4x32-10,
    :mod:`edstudy.sim._random`) keyed by the seed and the student's ``student_id`` (its global
    index): the pre- and post-test answers (Binomial counts as sums of Bernoulli trials, counter 0),
    the first item, and at each opportunity (counter = the student's own opportunities so far) the
    five uniforms of the practice kernel (answer, learning or forgetting, the two of a Box-Muller
    normal for the duration, dropout), the offered media, a random medium or the Thompson draws
    (normals by the inverse CDF ``scipy.special.ndtri``). So simulating students ``[0, N)`` in one
    call or in any chunks gives the same rows: what the study runner's chunks rely on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtri

from edstudy.bkt.filtering import update_mastery
from edstudy.schema import validate_log, validate_outcomes
from edstudy.sim._kernels import practice_kernel
from edstudy.sim._random import stream_key, uniforms
from edstudy.sim._tables import (
    _COMPLETED,
    _DROPPED,
    _OUT_OF_STEPS,
    _OUT_OF_TIME,
    _STOPPED,
    MASTERY_REPORTED,
    log_frame,
    outcomes_frame,
)
from edstudy.sim.curriculum import Curriculum
from edstudy.sim.population import Cohort
from edstudy.sim.responder import Responder, check_skill_state
from edstudy.sim.strategies import BoundRule, Strategy, bind_strategy

__all__ = ["Budget", "Simulation", "simulate", "MASTERY_REPORTED"]

#: variance of one observed learning-gain residual (Thompson sampling)
RESIDUAL_VARIANCE = 0.25
_NO_P = np.zeros(0)  # the kernel's answer probabilities when the engine's own BKT answers


@dataclass(frozen=True)
class Budget:
    """How much tutor time each student has.

    Parameters
    ----------
    minutes : float
        Time on task after which a student stops (> 0).
    max_steps : int or None
        Upper bound on practice opportunities per student (a safety net); None means
        ``60 * number of skills``.
    """

    minutes: float = 240.0
    max_steps: int | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.minutes, bool)
            or not isinstance(self.minutes, int | float)
            or not self.minutes > 0
        ):
            raise ValueError(f"budget minutes must be a number > 0, got {self.minutes!r}")
        if self.max_steps is not None and (
            int(self.max_steps) != self.max_steps or self.max_steps < 1
        ):
            raise ValueError(
                f"budget max_steps must be a whole number >= 1, got {self.max_steps!r}"
            )

    def steps(self, n_skills: int) -> int:
        return int(self.max_steps) if self.max_steps is not None else 60 * n_skills


class Simulation(NamedTuple):
    """``(log, outcomes)`` of one simulated arm; unpacks like a tuple."""

    log: pd.DataFrame
    outcomes: pd.DataFrame


class _State:
    """Mutable engine state, arrays over the cohort (n) and skills (K)."""

    def __init__(
        self,
        cohort: Cohort,
        curriculum: Curriculum,
        strategy: Strategy,
        budget: Budget,
        key: tuple[int, int],
        responder: Responder | None = None,
    ):
        n, k = cohort.n_students, len(curriculum.skills)
        # checked before anything of size k x k is allocated
        if sum(s.n_items for s in curriculum.skills) >= 2**31 or k >= 2**15:
            raise ValueError(
                "curriculum too large for the log encoding (items < 2^31, skills < 2^15)"
            )
        if len(curriculum.activities) >= 2**7:
            raise ValueError("curriculum too large for the log encoding (activities < 2^7)")
        self.n, self.k, self.m = n, k, len(curriculum.media)
        self.key = key
        self.ids = np.ascontiguousarray(cohort.student_id, dtype=np.int64)
        self.budget_s = float(budget.minutes) * 60.0
        bkt = curriculum.bkt_arrays()
        learn = bkt["learn"] if cohort.learn is None else cohort.learn
        learn = np.broadcast_to(np.asarray(learn, dtype=float), (n, k))
        # log(1 - learn), (n, K); -inf for learn = 1, so that 1 - (1 - learn)^r is 1 for any
        # rate r > 0 (a learn clipped below 1 gave 1 - 1e-12^r, e.g. 0.75 at r = 0.05)
        with np.errstate(divide="ignore"):
            self.learn_log = np.ascontiguousarray(np.log1p(-learn))
        forget = np.zeros((n, k)) if cohort.forget is None else cohort.forget
        self.forget = np.ascontiguousarray(forget, dtype=float)  # P(forget), (n, K)
        tutor = curriculum.tutor_arrays()
        self.t_prior, self.t_learn, self.t_guess, self.t_slip = (
            np.ascontiguousarray(tutor[x]) for x in ("prior", "learn", "guess", "slip")
        )
        self.prereq = curriculum.prerequisite_matrix()
        self.prereq_t = self.prereq.T.astype(np.float32)
        self.penalty = curriculum.prerequisite_penalty
        acts = curriculum.activities
        self.act_mult = np.array([a.learn_multiplier for a in acts], dtype=float)
        self.act_dur = np.array([a.duration_s for a in acts], dtype=float)
        names = curriculum.activity_names
        self.hint_code = np.int64(names.index("hint") if "hint" in names else -1)
        self.n_items = np.array([s.n_items for s in curriculum.skills], dtype=np.int64)
        self.item_base = np.concatenate([[0], np.cumsum(self.n_items)[:-1]]).astype(np.int64)
        spec = cohort.spec
        self.spec = spec
        self.sequence_interest = strategy.sequence == "interest"

        c = cohort
        self.responder = responder
        if responder is None:
            self.known = np.array(c.known0, dtype=np.bool_, order="C")
        else:
            p_resp, known_resp = check_skill_state(responder.skill_state(), n, k)
            self.known = np.array(known_resp, dtype=np.bool_, order="C")
        self.prior_mastered = self.known.sum(axis=1)
        self.guess = np.array(c.guess, dtype=float, order="C")
        self.slip = np.array(c.slip, dtype=float, order="C")
        self.interest = np.array(c.interest, dtype=float, order="C")
        self.interest_flat = self.interest.reshape(-1)
        self.speed = np.array(c.learning_speed, dtype=float)
        self.best = np.array(c.true_best_medium, dtype=np.int64)
        self.stated = np.array(c.stated_preference, dtype=np.int64)
        self.goal = np.array(c.goal, dtype=float)
        self.eng0 = np.array(c.engagement0, dtype=float)
        self.time_mult = np.array(c.time_multiplier, dtype=float)

        # pre-test and the tutor's starting estimate
        n_pre = curriculum.pretest_items
        p_ok = np.where(self.known, 1.0 - c.slip, c.guess) if responder is None else p_resp
        pre = self.binomial("pretest", n_pre, p_ok)
        self.pretest_skill = pre / n_pre
        self.pretest = pre.sum(axis=1) / (k * n_pre)
        est = np.broadcast_to(self.t_prior, (n, k)).astype(float)
        if strategy.use_pretest:
            for j in range(n_pre):
                est = update_mastery(est, j < pre, guess=self.t_guess, slip=self.t_slip, learn=0.0)
        self.est = np.ascontiguousarray(est)
        self.est_flat = self.est.reshape(-1)

        self.cur = np.full(n, -1, dtype=np.int64)
        self.done = np.zeros((n, k), dtype=bool)
        self.opp = np.zeros((n, k), dtype=np.int64)
        self.opp_flat = self.opp.reshape(-1)
        self.streak = np.zeros(n, dtype=np.int64)
        self.err_streak = np.zeros(n, dtype=np.int64)
        self.errors = np.zeros(n, dtype=np.int64)
        self.remed_skill = np.zeros(n, dtype=np.int64)
        self.time_used = np.zeros(n)
        self.time_skill = np.zeros(n)
        self.total_opp = np.zeros(n, dtype=np.int64)
        self.eng = self.eng0.copy()
        self.eng_sum = np.zeros(n)
        self.active = np.ones(n, dtype=bool)
        self.final = np.zeros(n, dtype=np.int64)
        self.alerts = np.zeros(n, dtype=np.int64)
        self.alerted = np.zeros(n, dtype=bool)
        self.ts_sum = np.zeros((n, self.m))  # summed residual gains per medium
        self.ts_n = np.zeros((n, self.m))  # their number
        self.pending = np.full(n, -1, dtype=np.int64)
        self.over = np.zeros(n, dtype=np.int64)
        self.under = np.zeros(n, dtype=np.int64)
        self.placed_out = np.zeros(n, dtype=np.int64)
        self.remed_total = np.zeros(n, dtype=np.int64)
        self.chosen_n = np.zeros(n, dtype=np.int64)
        self.matched_n = np.zeros(n, dtype=np.int64)
        u_item = uniforms(key, self.ids, "item_start", 1)[0]
        self.item_start = (u_item * (1 << 30)).astype(np.int64)  # uniform on 0 .. 2^30 - 1
        self.rows: list[tuple[np.ndarray, ...]] = []

    # --- per-student random numbers ----------------------------------------------------------
    def binomial(self, purpose: str, trials: int, p: np.ndarray) -> np.ndarray:
        """Binomial(trials, p) counts (n, K) as sums of Bernoulli trials ``u < p`` (exact)."""
        u = uniforms(self.key, self.ids, purpose, self.k * trials).reshape(self.k, trials, -1)
        return np.ascontiguousarray((u < p.T[:, None, :]).sum(axis=1).T)  # (n, K), C order

    def draws(self, q: np.ndarray, purpose: str, n_values: int) -> np.ndarray:
        """Uniforms (n_values, q.size) of students ``q`` at their current opportunity count."""
        return uniforms(self.key, self.ids[q], purpose, n_values, counters=self.total_opp[q])

    # --- state variables for rule conditions --------------------------------------------
    def env(self, q: np.ndarray) -> Any:
        cache: dict[str, np.ndarray] = {}
        k = self.cur[q]
        flat = q * self.k + k
        s = self

        def get(name: str) -> np.ndarray:
            if name in cache:
                return cache[name]
            if name == "mastery":
                v = s.est_flat[flat]
            elif name == "opportunities":
                v = s.opp_flat[flat]
            elif name == "total_opportunities":
                v = s.total_opp[q]
            elif name == "streak":
                v = s.streak[q]
            elif name == "error_streak":
                v = s.err_streak[q]
            elif name == "errors":
                v = s.errors[q]
            elif name == "remediations":
                v = s.remed_skill[q]
            elif name == "time_used":
                v = s.time_used[q] / 60.0
            elif name == "time_on_skill":
                v = s.time_skill[q] / 60.0
            elif name == "time_left":
                v = (s.budget_s - s.time_used[q]) / 60.0
            elif name == "pretest":
                v = s.pretest[q]
            elif name == "pretest_skill":
                v = s.pretest_skill.reshape(-1)[flat]
            elif name == "skills_done":
                v = s.done[q].sum(axis=1)
            elif name == "skills_left":
                v = s.k - s.done[q].sum(axis=1)
            elif name == "goal":
                v = s.goal[q]
            elif name == "interest":
                v = s.interest_flat[flat]
            elif name == "stated_preference":
                v = s.stated[q]
            elif name == "estimated_best":
                v = s.estimated_best(q)
            elif name == "alerted":
                v = s.alerted[q]
            else:
                raise KeyError(f"unknown state variable {name!r}")
            cache[name] = v
            return v

        get.invalidate = cache.pop  # type: ignore[attr-defined]
        return get

    def gain_posterior(
        self, q: np.ndarray, stated_prior: float, prior_sd: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and sd of each medium's learning gain for students ``q`` (n, M).

        Normal-normal model: a gain is observed as the residual ``correct - P(correct)`` of the
        answer after a wrong answer in that medium, with variance 0.25 (a Bernoulli residual);
        the prior is ``N(0, prior_sd^2)``, and ``N(stated_prior, prior_sd^2)`` for the stated
        preference.
        """
        prec0 = 1.0 / (prior_sd * prior_sd)
        prior = np.zeros((q.size, self.m))
        prior[np.arange(q.size), self.stated[q]] = stated_prior
        prec = prec0 + self.ts_n[q] / RESIDUAL_VARIANCE
        mean = (prec0 * prior + self.ts_sum[q] / RESIDUAL_VARIANCE) / prec
        return mean, 1.0 / np.sqrt(prec)

    def estimated_best(self, q: np.ndarray) -> np.ndarray:
        mean, _ = self.gain_posterior(q, 1e-9, 0.1)  # ties go to the stated preference
        return mean.argmax(axis=1)

    # --- navigation -----------------------------------------------------------------------
    def choose_next(self, q: np.ndarray) -> None:
        """Give students ``q`` (with no current skill) their next skill, or finish them."""
        if q.size == 0:
            return
        done = self.done[q]
        missing_prereq = (~done).astype(np.float32) @ self.prereq_t > 0
        cand = ~done & ~missing_prereq
        has = cand.any(axis=1)
        if self.sequence_interest:
            pick = np.where(cand, self.interest[q], -1.0).argmax(axis=1)
        else:
            pick = cand.argmax(axis=1)
        self.cur[q] = np.where(has, pick, -1)
        fin = q[~has]
        self.active[fin] = False
        self.final[fin] = _COMPLETED
        q = q[has]
        for arr in (self.streak, self.err_streak, self.errors, self.remed_skill):
            arr[q] = 0
        self.time_skill[q] = 0.0
        self.alerted[q] = False
        self.pending[q] = -1

    def move_on(self, q: np.ndarray, accelerate: bool) -> None:
        k = self.cur[q]
        self.done[q, k] = True
        self.under[q] += ~self.known[q, k]
        if accelerate:
            self.placed_out[q] += 1
        self.cur[q] = -1

    # --- one practice opportunity -----------------------------------------------------------
    def practice(self, p: np.ndarray, act: np.ndarray, chosen: np.ndarray) -> None:
        """One opportunity for each student in ``p`` (compiled kernel + the tutor's BKT update)."""
        s, spec, n = self, self.spec, p.size
        k = s.cur[p]
        flat = p * s.k + k
        est_before = s.est_flat[flat]
        u = s.draws(p, "practice", 5)
        o_skill = np.empty(n, dtype=np.int16)
        o_order = np.empty(n, dtype=np.int64)
        o_correct = np.empty(n, dtype=np.bool_)
        o_item = np.empty(n, dtype=np.int64)
        o_dur = np.empty(n, dtype=np.float64)
        p_answer, use_p = _NO_P, False
        if s.responder is not None:
            t_before = s.time_used[p].copy()
            p_answer = s.respond(p, k, t_before)
            use_p = True
        practice_kernel(
            p,
            act,
            chosen,
            u,
            s.cur,
            s.known,
            s.guess,
            s.slip,
            s.speed,
            s.best,
            s.act_mult,
            s.learn_log,
            s.forget,
            p_answer,
            use_p,
            float(spec.meshing_effect),
            s.prereq,
            float(s.penalty),
            s.t_guess,
            s.t_slip,
            est_before,
            s.opp,
            s.total_opp,
            s.streak,
            s.err_streak,
            s.errors,
            s.remed_skill,
            s.remed_total,
            s.chosen_n,
            s.matched_n,
            s.time_used,
            s.time_skill,
            s.act_dur,
            s.time_mult,
            float(spec.activity_time_sd),
            s.item_base,
            s.item_start,
            s.n_items,
            s.m,
            s.pending,
            s.ts_sum,
            s.ts_n,
            s.interest,
            s.eng0,
            s.eng,
            s.eng_sum,
            float(spec.choice_boost),
            float(spec.interest_boost),
            float(spec.boredom),
            float(spec.frustration),
            float(spec.engagement_inertia),
            float(spec.dropout_per_hour),
            float(spec.dropout_engagement),
            s.budget_s,
            s.over,
            s.active,
            s.final,
            _DROPPED,
            _OUT_OF_TIME,
            o_skill,
            o_order,
            o_correct,
            o_item,
            o_dur,
        )
        if use_p:
            s.responder.observe(p, k, o_correct, t_before, np.ascontiguousarray(u[1]))
            s.respond(p, k, s.time_used[p])  # the mastery after the opportunity
        # the tutor's estimate: the shared one-step BKT update
        s.est_flat[flat] = update_mastery(
            est_before, o_correct, guess=s.t_guess[k], slip=s.t_slip[k], learn=s.t_learn[k]
        )
        s.rows.append((p, o_skill, o_order, o_correct, o_item, act, chosen, o_dur))

    def respond(self, p: np.ndarray, k: np.ndarray, times: np.ndarray) -> np.ndarray:
        """The responder's P(correct) of students ``p`` on skills ``k``; their ``known`` is set
        to the responder's mastery."""
        prob, known = self.responder.p_correct(p, k, times)
        prob = np.ascontiguousarray(prob, dtype=np.float64).reshape(-1)
        known = np.asarray(known, dtype=np.bool_).reshape(-1)
        if prob.shape != p.shape or known.shape != p.shape:
            raise ValueError(
                f"responder.p_correct must give {p.size} probabilities and {p.size} mastery "
                f"flags, got {prob.shape} and {known.shape}"
            )
        if not np.all((prob >= 0) & (prob <= 1)):
            raise ValueError("responder.p_correct gave probabilities outside [0, 1]")
        self.known[p, k] = known
        return prob

    # --- choosing the activity ----------------------------------------------------------------
    def medium_for(self, rule: BoundRule, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = q.size
        chosen = np.zeros(n, dtype=bool)
        if rule.action == "remediate":
            return np.full(n, rule.activity, dtype=np.int64), chosen
        if rule.action == "offer_choice":
            # offered: the `size` media with the smallest random keys
            keys = self.draws(q, "offer", self.m).T
            first = keys.argmin(axis=1)
            if rule.pick == "preference":
                pref = self.stated[q]
                pref_key = keys[np.arange(n), pref]
                offered = (keys < pref_key[:, None]).sum(axis=1) < rule.size
                act = np.where(offered, pref, first)
            else:
                act = first
            return act.astype(np.int64), ~chosen
        m = rule.medium
        if isinstance(m, int):
            return np.full(n, m, dtype=np.int64), chosen
        if m == "stated_preference":
            return self.stated[q].astype(np.int64), chosen
        if m == "estimated_best":
            return self.estimated_best(q), chosen
        if m == "random":
            u = self.draws(q, "random_medium", 1)[0]
            return np.minimum((u * self.m).astype(np.int64), self.m - 1), chosen
        if m == "thompson":
            mean, sd = self.gain_posterior(q, rule.stated_prior, rule.prior_sd)
            draw = mean + sd * ndtri(self.draws(q, "thompson", self.m)).T
            return draw.argmax(axis=1), chosen
        raise AssertionError(m)  # pragma: no cover


def simulate(
    cohort: Cohort,
    curriculum: Curriculum,
    strategy: Strategy,
    *,
    seed: int | np.random.Generator | np.random.SeedSequence,
    budget: Budget | None = None,
    arm: str | None = None,
    progress: bool | None = None,
    validate: bool = True,
    responder: Responder | None = None,
) -> Simulation:
    """Run a cohort through a curriculum under a strategy.

    Parameters
    ----------
    cohort : Cohort
        From :func:`edstudy.sim.draw_cohort`; not modified.
    curriculum : Curriculum
    strategy : Strategy
        Checked against the curriculum before anything runs.
    seed : int, SeedSequence or numpy Generator
        The only source of randomness: its key drives every student's own streams (see the
        module docstring), so a student's rows do not depend on the other students simulated
        with it.
    budget : Budget, optional
        Minutes per student (default 240) and a cap on opportunities.
    arm : str, optional
        The ``arm`` column; defaults to the strategy's name.
    progress : bool or None
        Show a tqdm progress bar of finished students; None shows one for cohorts of 20,000 or
        more when stderr is a terminal.
    validate : bool
        Check both tables with :func:`edstudy.schema.validate_log` / ``validate_outcomes`` and
        return the validated copies (canonical dtypes). False skips that (benchmarks).
    responder : Responder, optional
        Another student model answers the practice questions (see
        :mod:`edstudy.sim.responder`): a fresh one for this cohort (its students are the
        cohort's rows, its skills the curriculum's, in order); it is moved by the run. The
        cohort's own learning traits (``known0, guess, slip, learn, forget``) are then unused.

    Returns
    -------
    Simulation
        ``(log, outcomes)``; see the module docstring for their columns.

    Raises
    ------
    ConfigError
        When the strategy names a medium or activity the curriculum does not have.
    ValueError
        When the cohort was drawn for a different curriculum (number of skills or media).
    """
    if cohort.n_skills != len(curriculum.skills):
        raise ValueError(
            f"the cohort has {cohort.n_skills} skills but the curriculum has "
            f"{len(curriculum.skills)}"
        )
    if tuple(cohort.media) != curriculum.media:
        raise ValueError(
            f"the cohort's media {cohort.media} differ from the curriculum's {curriculum.media}"
        )
    budget = budget or Budget()
    rules = bind_strategy(strategy, curriculum)
    key = stream_key(seed)
    arm = arm if arm is not None else strategy.name
    s = _State(cohort, curriculum, strategy, budget, key, responder)
    default_rule = BoundRule(action="practice", test=None, medium=0)
    max_steps = budget.steps(s.k)
    if progress is None:
        progress = cohort.n_students >= 20_000 and sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=s.n, desc=f"simulate {arm}", unit="student", leave=False)

    s.choose_next(np.arange(s.n))
    for _tick in range(max_steps):
        pending = np.flatnonzero(s.active)
        if pending.size == 0:
            break
        chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for _round in range(s.k + 2):
            if pending.size == 0:
                break
            get = s.env(pending)
            decided = np.full(pending.size, -1, dtype=np.int64)
            open_ = np.ones(pending.size, dtype=bool)
            for r, rule in enumerate(rules):
                hit = open_.copy() if rule.test is None else rule.test(get, pending.size) & open_
                if not hit.any():
                    continue
                if rule.side_effect:  # alert_teacher
                    q = pending[hit]
                    s.alerts[q] += 1
                    s.alerted[q] = True
                    get.invalidate("alerted", None)
                    continue
                decided[hit] = r
                open_ &= ~hit
                if not open_.any():
                    break
            nav = np.zeros(pending.size, dtype=bool)
            for r in np.unique(decided):
                sel = decided == r
                q = pending[sel]
                rule = rules[r] if r >= 0 else default_rule
                if rule.action in ("advance", "accelerate"):
                    s.move_on(q, rule.action == "accelerate")
                    nav |= sel
                elif rule.action == "stop":
                    s.active[q] = False
                    s.final[q] = _STOPPED
                else:
                    act, chosen = s.medium_for(rule, q)
                    chunks.append((q, act, chosen))
            pending = pending[nav]
            s.choose_next(pending)
            pending = pending[s.active[pending]]
        if chunks:
            p = np.concatenate([c[0] for c in chunks])
            act = np.concatenate([c[1] for c in chunks])
            chosen = np.concatenate([c[2] for c in chunks])
            s.practice(p, act, chosen)
        if bar is not None:
            bar.update(s.n - int(s.active.sum()) - bar.n)
            bar.set_postfix(tick=_tick + 1, refresh=False)
    if bar is not None:
        bar.close()
    s.final[s.active] = _OUT_OF_STEPS

    log = log_frame(s, cohort, curriculum, arm)
    outcomes = outcomes_frame(s, cohort, curriculum, arm)
    if validate:
        if len(log):
            log = validate_log(log)
        outcomes = validate_outcomes(outcomes)
    return Simulation(log=log, outcomes=outcomes)
