"""A slow, plain reference of the simulator: one student at a time, one opportunity at a time.

Written from the model the engine documents (``edstudy.sim.engine``'s module docstring, the
strategy actions of ``edstudy.sim.strategies``, the responder protocol of
``edstudy.sim.responder``, the population's engagement and dropout model), not from the
vectorized engine or its numba kernel. Nothing here is vectorized over students: each student is
run start to finish with Python scalars, because a student's rows depend only on that student (their
own random streams). The only things shared with the library are

- the random numbers: :func:`edstudy.sim._random.uniforms`, the per-student Philox streams
  (checked against Random123's known-answer vectors in ``test_sim_random.py``), called here one
  student and one purpose at a time with the documented counters;
- the strategy's parsed rules (``Strategy.rules``: their text, action and arguments); conditions
  are evaluated by Python's ``eval`` of the rule text over the student's state as Python scalars
  (the condition language is a subset of Python's syntax, checked against ``eval`` in
  ``test_rules_differential.py``); media in conditions are names.

What one opportunity is (the documented model, restated as the code below does it)

1. The rules are read in order; ``alert_teacher`` counts an alert, sets ``alerted`` and reading
   goes on; the first other rule that holds decides; none: practise in medium 0. ``advance`` /
   ``accelerate`` mark the skill done, count under-practice (the skill is not truly known),
   pick the next skill (first unfinished skill whose prerequisites are done, in curriculum
   order, or the most interesting one) and read the rules again at once. ``stop`` ends.
2. Answer: with uniform ``u0``, correct iff ``u0 >= slip`` when the skill is truly known, iff
   ``u0 < guess`` otherwise (``u0 < p`` with a responder's ``p``).
3. Learning (no responder): an unknown skill becomes known iff ``u1 < 1 - (1 - learn)^r``,
   ``r = speed * multiplier(activity) * (1 + meshing if the activity is the student's true best
   medium) * (penalty if some prerequisite is not truly known)``; a known skill is forgotten iff
   ``u1 < forget``.
4. Duration: ``mean(activity) * time_multiplier * exp(sd z - sd^2 / 2)``, ``z`` the Box-Muller
   normal of ``u2, u3``: ``sqrt(-2 ln(1 - u2)) cos(2 pi u3)``.
5. Counters, the learning-gain residuals (``correct - P(correct)`` of the answer after a wrong
   answer in a medium, credited to that medium), engagement (moves to its target with inertia),
   then dropout with hazard ``rate * hours * exp(-k (engagement - 0.5))`` (``u4 < 1 -
   exp(-hazard)``), else out of time when the budget is used.
6. The tutor's estimate: Bayes' rule on the answer with the tutor's guess and slip, then the
   learning transition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri

from edstudy.sim._random import stream_key, uniforms
from edstudy.sim.curriculum import Curriculum
from edstudy.sim.engine import Budget
from edstudy.sim.population import Cohort
from edstudy.sim.strategies import Strategy

__all__ = ["reference_simulate"]

RESIDUAL_VARIANCE = 0.25  # variance of a Bernoulli residual at p = 0.5 (Thompson sampling)
MASTERY_REPORTED = 0.95  # a skill counts as mastered at a tutor estimate of 0.95 (engine docs)


class _Stream:
    """One student's uniforms: ``u(purpose, n, counter)`` gives the n values of that draw."""

    def __init__(self, key: tuple[int, int], sid: int):
        self.key = key
        self.ids = np.array([sid], dtype=np.int64)

    def __call__(self, purpose: str, n: int, counter: int = 0) -> list[float]:
        return [float(x) for x in uniforms(self.key, self.ids, purpose, n, counters=counter)[:, 0]]


def _bayes(p: float, correct: bool, guess: float, slip: float) -> float:
    """P(mastered | answer) from P(mastered) = p."""
    if correct:
        return p * (1 - slip) / (p * (1 - slip) + (1 - p) * guess)
    return p * slip / (p * slip + (1 - p) * (1 - guess))


@dataclass
class _Student:
    """Everything the tutor and the ground truth know about one student."""

    known: list[bool]
    est: list[float]
    pre_skill: list[float]
    pretest: float
    done: list[bool]
    opp: list[int]
    ts_sum: list[float]
    ts_n: list[float]
    eng: float
    cur: int = -1
    total: int = 0
    streak: int = 0
    err_streak: int = 0
    errors: int = 0
    remed_skill: int = 0
    remed_total: int = 0
    time_used: float = 0.0
    time_skill: float = 0.0
    alerted: bool = False
    alerts: int = 0
    pending: int = -1
    over: int = 0
    under: int = 0
    placed_out: int = 0
    chosen_n: int = 0
    matched_n: int = 0
    eng_sum: float = 0.0
    final: str = "running"
    rows: list[dict[str, Any]] = field(default_factory=list)


def _posterior(st: _Student, stated: int, stated_prior: float, prior_sd: float, m: int):
    """Per medium: posterior mean and sd of the learning gain (normal prior, normal residuals)."""
    means, sds = [], []
    for j in range(m):
        prior_mean = stated_prior if j == stated else 0.0
        prec = 1 / prior_sd**2 + st.ts_n[j] / RESIDUAL_VARIANCE
        means.append((prior_mean / prior_sd**2 + st.ts_sum[j] / RESIDUAL_VARIANCE) / prec)
        sds.append(1 / math.sqrt(prec))
    return means, sds


def _first_max(values: list[float]) -> int:
    best = 0
    for j, v in enumerate(values):
        if v > values[best]:
            best = j
    return best


def reference_simulate(  # noqa: PLR0912, PLR0915 - one readable loop on purpose
    cohort: Cohort,
    curriculum: Curriculum,
    strategy: Strategy,
    *,
    seed: int,
    budget: Budget | None = None,
    responder: Any = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Simulate ``cohort`` student by student; returns ``(log rows, outcome rows)`` as dicts.

    Log rows have the engine's log columns but ``arm`` (names, not categorical codes); outcome
    rows have the outcomes' columns but ``arm``. A responder (optional) must give each student's
    answers from that student's history only.
    """
    budget = budget or Budget()
    key = stream_key(seed)
    skills = curriculum.skills
    k_n = len(skills)
    media = curriculum.media
    m = len(media)
    acts = curriculum.activities
    act_names = curriculum.activity_names
    spec = cohort.spec
    prereq = [[skill_ids_index(curriculum, p) for p in s.prerequisites] for s in skills]
    tutor = [s.tutor_params for s in skills]  # (prior, learn, guess, slip)
    budget_s = budget.minutes * 60.0
    max_steps = budget.max_steps if budget.max_steps is not None else 60 * k_n
    params = dict(strategy.params)

    resp_p0 = resp_known0 = None
    if responder is not None:
        resp_p0, resp_known0 = (np.asarray(a) for a in responder.skill_state())
    logs: list[dict[str, Any]] = []
    outs: list[dict[str, Any]] = []
    for i in range(cohort.n_students):
        sid = int(cohort.student_id[i])
        u = _Stream(key, sid)
        guess = [float(x) for x in cohort.guess[i]]
        slip = [float(x) for x in cohort.slip[i]]
        if cohort.learn is None:
            learn = [s.learn for s in skills]
        else:
            learn = [float(x) for x in cohort.learn[i]]
        forget = [0.0] * k_n if cohort.forget is None else [float(x) for x in cohort.forget[i]]
        speed = float(cohort.learning_speed[i])
        best = int(cohort.true_best_medium[i])
        stated = int(cohort.stated_preference[i])
        interest = [float(x) for x in cohort.interest[i]]
        eng0 = float(cohort.engagement0[i])
        if responder is None:
            known = [bool(x) for x in cohort.known0[i]]
            p_test = [(1 - slip[k]) if known[k] else guess[k] for k in range(k_n)]
        else:
            known = [bool(x) for x in resp_known0[i]]
            p_test = [float(x) for x in resp_p0[i]]
        prior_mastered = sum(known)

        # pre-test: items_per_skill Bernoulli answers per skill, value k * items + t
        n_pre = curriculum.pretest_items
        draws = u("pretest", k_n * n_pre)
        pre = [sum(draws[k * n_pre + t] < p_test[k] for t in range(n_pre)) for k in range(k_n)]
        est = []
        for k in range(k_n):
            p = tutor[k][0]
            if strategy.use_pretest:  # Bayes' rule over the answers, no learning in a test
                g, s = tutor[k][2], tutor[k][3]
                c, w = pre[k], n_pre - pre[k]
                yes = p * (1 - s) ** c * s**w
                p = yes / (yes + (1 - p) * g**c * (1 - g) ** w)
            est.append(p)
        st = _Student(
            known=known,
            est=est,
            pre_skill=[c / n_pre for c in pre],
            pretest=sum(pre) / (k_n * n_pre),
            done=[False] * k_n,
            opp=[0] * k_n,
            ts_sum=[0.0] * m,
            ts_n=[0.0] * m,
            eng=eng0,
        )
        item_start = int(u("item_start", 1)[0] * 2**30)

        def next_skill(st: _Student = st, interest: list[float] = interest) -> None:
            open_ = [
                k for k in range(k_n)
                if not st.done[k] and all(st.done[q] for q in prereq[k])
            ]  # fmt: skip
            if not open_:
                st.cur, st.final = -1, "completed"
                return
            if strategy.sequence == "interest":
                st.cur = max(open_, key=lambda k: (interest[k], -k))
            else:
                st.cur = open_[0]
            st.streak = st.err_streak = st.errors = st.remed_skill = 0
            st.time_skill = 0.0
            st.alerted = False
            st.pending = -1

        def state(
            st: _Student = st,
            stated: int = stated,
            goal: float = float(cohort.goal[i]),
            interest: list[float] = interest,
        ) -> dict[str, Any]:
            k = st.cur
            best_mean, _ = _posterior(st, stated, 1e-9, 0.1, m)
            return {
                "mastery": st.est[k],
                "opportunities": st.opp[k],
                "total_opportunities": st.total,
                "streak": st.streak,
                "error_streak": st.err_streak,
                "errors": st.errors,
                "remediations": st.remed_skill,
                "time_used": st.time_used / 60,
                "time_on_skill": st.time_skill / 60,
                "time_left": (budget_s - st.time_used) / 60,
                "pretest": st.pretest,
                "pretest_skill": st.pre_skill[k],
                "skills_done": sum(st.done),
                "skills_left": k_n - sum(st.done),
                "goal": goal,
                "interest": interest[k],
                "stated_preference": media[stated],
                "estimated_best": media[_first_max(best_mean)],
                "alerted": st.alerted,
            }

        next_skill()
        for _step in range(max_steps):
            if st.final != "running":
                break
            # 1. the rules, until one decides on an activity (navigation costs no step)
            decision = None
            while decision is None:
                decision = ("practice", {"medium": media[0]})
                for rule in strategy.rules:
                    if rule.when is not None:
                        names = {**params, **state(), "min": min, "max": max, "abs": abs}
                        names.update(true=True, false=False, always=True)
                        if not eval(rule.when.text, {"__builtins__": {}}, names):  # noqa: S307
                            continue
                    if rule.action == "alert_teacher":
                        st.alerts += 1
                        st.alerted = True
                        continue
                    decision = (rule.action, rule.args)
                    break
                action, args = decision
                if action in ("advance", "accelerate"):
                    st.done[st.cur] = True
                    st.under += not st.known[st.cur]
                    st.placed_out += action == "accelerate"
                    next_skill()
                    decision = None
                    if st.final != "running":
                        break
                elif action == "stop":
                    st.final = "stopped"
            if st.final != "running":
                break
            # the activity
            action, args = decision
            chosen = False
            if action == "remediate":
                a = act_names.index(params.get(args["activity"], args["activity"]))
            elif action == "offer_choice":
                size = params.get(args["size"], args["size"])
                pick = params.get(args.get("pick", "preference"), args.get("pick", "preference"))
                keys = u("offer", m, st.total)
                offered = sorted(range(m), key=lambda j: keys[j])[: int(size)]
                a = stated if pick == "preference" and stated in offered else offered[0]
                chosen = True
            else:
                med = args["medium"]
                med = params.get(med, med)
                if med in media:
                    a = media.index(med)
                elif med == "stated_preference":
                    a = stated
                elif med == "estimated_best":
                    a = _first_max(_posterior(st, stated, 1e-9, 0.1, m)[0])
                elif med == "random":
                    a = min(int(u("random_medium", 1, st.total)[0] * m), m - 1)
                elif med == "thompson":
                    sp = args.get("stated_prior", 0.05)
                    sd = args.get("prior_sd", 0.1)
                    mean, sds = _posterior(
                        st, stated, float(params.get(sp, sp)), float(params.get(sd, sd)), m
                    )
                    z = u("thompson", m, st.total)
                    a = _first_max([mean[j] + sds[j] * float(ndtri(z[j])) for j in range(m)])
                else:
                    raise AssertionError(med)
            is_medium = a < m

            # 2.-6. one practice opportunity
            k = st.cur
            u0, u1, u2, u3, u4 = u("practice", 5, st.total)
            was_known = st.known[k]
            e_before = st.est[k]
            if responder is not None:
                p_ok, kn = responder.p_correct(
                    np.array([i]), np.array([k]), np.array([st.time_used])
                )
                was_known = bool(np.asarray(kn).reshape(-1)[0])
                st.known[k] = was_known
                correct = u0 < float(np.asarray(p_ok).reshape(-1)[0])
            elif was_known:
                correct = u0 >= slip[k]
            else:
                correct = u0 < guess[k]
            if responder is None:
                r = speed * acts[a].learn_multiplier
                if is_medium and a == best:
                    r *= 1 + spec.meshing_effect
                if any(not st.known[q] for q in prereq[k]):
                    r *= curriculum.prerequisite_penalty
                p_learn = 1 - (1 - learn[k]) ** r
                if not was_known and u1 < p_learn:
                    st.known[k] = True
                elif was_known and u1 < forget[k]:
                    st.known[k] = False
            st.over += was_known
            z = math.sqrt(-2 * math.log(1 - u2)) * math.cos(2 * math.pi * u3)
            sd_t = spec.activity_time_sd
            dur = acts[a].duration_s * float(cohort.time_multiplier[i])
            dur *= math.exp(sd_t * z - sd_t**2 / 2)
            item = (item_start + st.opp[k]) % skills[k].n_items  # items cycle from a random one
            st.rows.append(
                {
                    "student_id": sid,
                    "skill_id": skills[k].id,
                    "order": st.total,
                    "correct": int(correct),
                    "item_id": f"{skills[k].id}-{item:02d}",
                    "activity": act_names[a],
                    "chosen": chosen,
                    "class_id": int(cohort.class_id[i]),
                    "school_id": int(cohort.school_id[i]),
                    "duration_s": dur,
                    "hints": int(act_names[a] == "hint"),
                }
            )
            t_before = st.time_used
            st.opp[k] += 1
            st.total += 1
            if correct:
                st.streak += 1
                st.err_streak = 0
            else:
                st.streak = 0
                st.err_streak += 1
                st.errors += 1
            if not is_medium:
                st.remed_skill += 1
                st.remed_total += 1
            st.chosen_n += chosen
            st.matched_n += is_medium and a == best
            st.time_used += dur
            st.time_skill += dur
            if st.pending >= 0:  # gain of the medium used after the previous wrong answer
                g, s = tutor[k][2], tutor[k][3]
                expected = e_before * (1 - s) + (1 - e_before) * g
                st.ts_sum[st.pending] += int(correct) - expected
                st.ts_n[st.pending] += 1
            st.pending = a if (not correct and is_medium) else -1
            target = eng0 + spec.interest_boost * (interest[k] - 0.5)
            if chosen:
                target += spec.choice_boost
            if was_known and correct:
                target -= spec.boredom
            target -= spec.frustration * min(st.err_streak, 5)
            target = min(max(target, 0.0), 1.0)
            inertia = spec.engagement_inertia
            st.eng = inertia * st.eng + (1 - inertia) * target
            st.eng_sum += st.eng
            hazard = spec.dropout_per_hour * dur / 3600
            hazard *= math.exp(-spec.dropout_engagement * (st.eng - 0.5))
            if u4 < 1 - math.exp(-hazard):
                st.final = "dropped_out"
            elif st.time_used >= budget_s:
                st.final = "out_of_time"
            if responder is not None:
                responder.observe(
                    np.array([i]), np.array([k]), np.array([correct]), np.array([t_before]),
                    np.array([u1]),
                )  # fmt: skip
                _, kn = responder.p_correct(np.array([i]), np.array([k]), np.array([st.time_used]))
                st.known[k] = bool(np.asarray(kn).reshape(-1)[0])
            post = _bayes(e_before, correct, tutor[k][2], tutor[k][3])
            st.est[k] = post + (1 - post) * tutor[k][1]
        if st.final == "running":
            st.final = "out_of_steps"

        # post-test and outcomes
        if responder is None:
            p_end = [(1 - slip[k]) if st.known[k] else guess[k] for k in range(k_n)]
        else:
            p_all, k_all = (np.asarray(x) for x in responder.skill_state())
            p_end = [float(x) for x in p_all[i]]
            st.known = [bool(x) for x in k_all[i]]
        n_post = curriculum.posttest_items
        draws = u("posttest", k_n * n_post)
        post_ok = sum(draws[k * n_post + t] < p_end[k] for k in range(k_n) for t in range(n_post))
        n_opp = st.total
        outs.append(
            {
                "student_id": sid,
                "class_id": int(cohort.class_id[i]),
                "school_id": int(cohort.school_id[i]),
                "pretest": st.pretest,
                "posttest": post_ok / (k_n * n_post),
                "skills_mastered": sum(e >= MASTERY_REPORTED for e in st.est),
                "opportunities": n_opp,
                "time_on_task": st.time_used,
                "dropped_out": st.final == "dropped_out",
                "completed": st.final in ("completed", "stopped"),
                "engagement": min(max(st.eng_sum / n_opp if n_opp else eng0, 0.0), 1.0),
                "final_result": st.final,
                "skills_practiced": sum(o > 0 for o in st.opp),
                "skills_placed_out": st.placed_out,
                "remediations": st.remed_total,
                "teacher_alerts": st.alerts,
                "chosen_share": st.chosen_n / n_opp if n_opp else 0.0,
                "stated_preference": media[stated],
                "goal": float(cohort.goal[i]),
                "true_best_medium": media[best],
                "learning_speed": speed,
                "true_prior_mastered": prior_mastered,
                "mastered_true": sum(st.known),
                "true_expected_posttest": sum(p_end) / k_n,
                "true_matched_share": st.matched_n / n_opp if n_opp else 0.0,
                "over_practice": st.over,
                "under_practice": st.under,
            }
        )
        logs.extend(st.rows)
    return logs, outs


def skill_ids_index(curriculum: Curriculum, skill_id: str) -> int:
    """Position of a skill in the curriculum's order."""
    return [s.id for s in curriculum.skills].index(skill_id)
